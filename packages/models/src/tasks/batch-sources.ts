// Reading a batch's sources, shared by every batch task (train, score, drift): each source once, in the batch's
// order, the next READ_AHEAD sources' reads started while the current one is processed; a database connection
// is closed after the batch's last table there. Reads are counted in the batch's stats.
import { isParquetFile, type BatchSourceSpec, type BatchStats } from '../train-many/batch-wire.js';
import { BatchConnections, readTable } from './read-postgres.js';
import { readCsv } from './read-csv.js';
import { readParquet } from './read-parquet.js';
import { isProblem, type SourceRead } from './source-data.js';

/** Sources whose reads run ahead of the one being processed. */
const READ_AHEAD = 2;

export interface SourceBatch {
  timeColumn: string;
  sources: readonly BatchSourceSpec[];
  /** Per slice: two half-open ranges [from, to) it needs, as four numbers; readers read their union. */
  ranges: Float64Array;
}

/** Calls `process` with each source's data (or why it could not be read), in order, awaiting each call. */
export async function forEachSource(
  batch: SourceBatch,
  stats: BatchStats,
  process: (source: BatchSourceSpec, data: SourceRead) => Promise<void> | void,
): Promise<void> {
  const connectionOf = (source: BatchSourceSpec): string | undefined => (source.source.kind === 'postgres' ? source.source.connection : undefined);
  const connections = new BatchConnections(batch.sources.map(connectionOf));
  const reads: Array<Promise<SourceRead> | undefined> = [];
  const startRead = (s: number): void => {
    const source = batch.sources[s];
    if (source === undefined || reads[s] !== undefined) return;
    const read = readSource(source, batch, connections, stats);
    read.catch(() => undefined); // awaited in order below; until then a rejection is not unhandled
    reads[s] = read;
  };
  try {
    for (let s = 0; s < batch.sources.length; s++) {
      for (let ahead = s; ahead <= s + READ_AHEAD; ahead++) startRead(ahead);
      const source = batch.sources[s] as BatchSourceSpec;
      const waitStarted = performance.now();
      const data = await (reads[s] as Promise<SourceRead>);
      stats.readMs += performance.now() - waitStarted;
      reads[s] = undefined;
      const connection = connectionOf(source);
      if (connection !== undefined) void connections.done(s, connection);
      if (!isProblem(data)) stats.rows += data.rows;
      await process(source, data);
    }
  } finally {
    await connections.closeAll();
    stats.queries = connections.queries;
  }
}

function readSource(source: BatchSourceSpec, batch: SourceBatch, connections: BatchConnections, stats: BatchStats): Promise<SourceRead> {
  if (source.source.kind === 'postgres') return readTable(connections, source, batch.timeColumn, batch.ranges);
  stats.scans++;
  return isParquetFile(source.source.file) ? readParquet(source, batch.timeColumn, batch.ranges) : readCsv(source, batch.timeColumn);
}
