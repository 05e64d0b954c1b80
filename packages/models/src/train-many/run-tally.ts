// The running count of a trainMany call: slices done and failed for progress reports (rate and ETA over the
// work this call did, not what a resumed stage already held), a summary of the trained models' metrics, and
// where the batches' time went. Everything is summed from result columns as batches arrive; nothing per model
// is kept.
import type { BatchResult } from './batch-wire.js';

export interface TrainProgress {
  /** Slices finished, trained or failed, including those of batches a resumed run found staged. */
  done: number;
  trained: number;
  failed: number;
  total: number;
  /** Slices per second finished by this call. */
  rate: number;
  /** Seconds left at the current rate (Infinity before the first batch of this call finishes). */
  etaSeconds: number;
  batches: { done: number; total: number };
  /** Key of the batch whose arrival this report is about (absent for the report of a resumed stage). */
  batch?: string;
}

/** The metrics of the models trained by batches this call ran (a resumed run's earlier batches are not in it). */
export interface MetricsSummary {
  models: number;
  trainPoints: number;
  testPoints: number;
  /** Means over the models whose value is defined (NaN when none is). */
  meanTrainRmse: number;
  meanTestRmse: number;
  meanTestMae: number;
  /** Test values outside their model's band, and their share of all test values. */
  anomalies: number;
  anomalyRate: number;
}

/** Where the batches' time went, summed over the tasks of this call, and what they read. */
export interface RunWork {
  /** Seconds tasks waited for source data (reads overlap fitting; this is the part they did not hide). */
  readSeconds: number;
  fitSeconds: number;
  /** Seconds the client spent staging batches and publishing the version. */
  storeSeconds: number;
  /** The part of storeSeconds spent publishing, after the last batch (staging overlaps the tasks; this does not). */
  publishSeconds: number;
  queries: number;
  scans: number;
  rows: number;
}

export class RunTally {
  readonly #started = performance.now();
  readonly #total: number;
  readonly #batches: number;
  #done = 0;
  #failed = 0;
  #doneHere = 0;
  #batchesDone = 0;
  readonly #metrics = { models: 0, trainPoints: 0, testPoints: 0, anomalies: 0, trainRmse: new Mean(), testRmse: new Mean(), testMae: new Mean() };
  readonly work: RunWork = { readSeconds: 0, fitSeconds: 0, storeSeconds: 0, publishSeconds: 0, queries: 0, scans: 0, rows: 0 };

  constructor(total: number, batches: number) {
    this.#total = total;
    this.#batches = batches;
  }

  get failed(): number {
    return this.#failed;
  }

  /** A batch found staged by a resumed run: counted as done, not in the rate. */
  resumed(slices: number, failed: number): void {
    this.#done += slices;
    this.#failed += failed;
    this.#batchesDone++;
  }

  /** A batch this call ran. */
  ran(result: BatchResult): void {
    const m = this.#metrics;
    for (let i = 0; i < result.count; i++) {
      if (result.ok[i] !== 1) continue;
      m.models++;
      m.trainPoints += result.trainPoints[i]!;
      m.testPoints += result.testPoints[i]!;
      m.anomalies += result.anomalies[i]!;
      m.trainRmse.add(result.trainRmse[i]!);
      m.testRmse.add(result.testRmse[i]!);
      m.testMae.add(result.testMae[i]!);
    }
    const { stats } = result;
    this.work.readSeconds += stats.readMs / 1000;
    this.work.fitSeconds += stats.fitMs / 1000;
    this.work.queries += stats.queries;
    this.work.scans += stats.scans;
    this.work.rows += stats.rows;
    this.#done += result.count;
    this.#doneHere += result.count;
    this.#failed += result.failedIndex.length;
    this.#batchesDone++;
  }

  progress(batch?: string): TrainProgress {
    const seconds = (performance.now() - this.#started) / 1000;
    const rate = seconds > 0 ? this.#doneHere / seconds : 0;
    const left = this.#total - this.#done;
    return {
      done: this.#done,
      trained: this.#done - this.#failed,
      failed: this.#failed,
      total: this.#total,
      rate,
      etaSeconds: left === 0 ? 0 : rate > 0 ? left / rate : Infinity,
      batches: { done: this.#batchesDone, total: this.#batches },
      ...(batch === undefined ? {} : { batch }),
    };
  }

  metrics(): MetricsSummary {
    const m = this.#metrics;
    return {
      models: m.models,
      trainPoints: m.trainPoints,
      testPoints: m.testPoints,
      meanTrainRmse: m.trainRmse.value,
      meanTestRmse: m.testRmse.value,
      meanTestMae: m.testMae.value,
      anomalies: m.anomalies,
      anomalyRate: m.testPoints > 0 ? m.anomalies / m.testPoints : NaN,
    };
  }
}

/** A mean of the finite values added. */
class Mean {
  #sum = 0;
  #count = 0;

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.#sum += value;
    this.#count++;
  }

  get value(): number {
    return this.#count > 0 ? this.#sum / this.#count : NaN;
  }
}
