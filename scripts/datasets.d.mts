export interface CsvDataset {
  paths: string[];
  rows: number;
  bytes: number;
  threshold: number;
  matchingRows: number;
  matchingSum: number;
}
export function writeCsvDataset(dir: string, options: { totalBytes: number; files?: number; threshold?: number }): CsvDataset;
