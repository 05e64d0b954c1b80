// Batches for training in this process: the same bounded, shuffled window train() uses, with partitions
// vectorized on the workers and fetched here one group at a time. Holds at most `maxPartitions` partitions.
import type { Client, dataframe, Delayed } from '@loom/client';
import type { Table } from 'apache-arrow';
import { MlError } from '../errors.js';
import { tensorize, VectorizedRows, type TensorBatch } from '../text/tensorize.js';
import type { VectorizeOptions } from '../text/vectorize.js';
import { ShuffleWindow } from './shuffle-window.js';
import { taskOp } from './task-ops.js';

export interface DataLoaderOptions {
  readonly batchSize: number;
  /** Vectorized partitions held at once (the group drawn from plus the prefetched one). Default 4. */
  readonly maxPartitions?: number;
  readonly seed?: number;
  /** Keep the last, smaller batch of an epoch (default false: every batch has batchSize rows). */
  readonly keepLast?: boolean;
}

export class DataLoader {
  private readonly partitions: readonly Delayed<unknown>[];
  /** The most partitions held at once in any epoch so far. */
  maxHeld = 0;

  constructor(
    private readonly client: Client,
    data: dataframe.DataFrame,
    vectorize: VectorizeOptions,
    private readonly options: DataLoaderOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new MlError('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${options.batchSize}`);
    }
    const vectorizeOp = taskOp('vectorizePartition');
    this.partitions = data.partitions.map((part) => vectorizeOp(part, vectorize));
  }

  /** One epoch of shuffled batches; each epoch number gives a different, reproducible order. */
  async *batches(epoch = 0): AsyncGenerator<TensorBatch, void, undefined> {
    const window = new ShuffleWindow<VectorizedRows>(this.partitions.length, {
      load: async (index) => {
        const [table] = (await this.client.computeDelayed([this.partitions[index] as Delayed<unknown>])) as [Table];
        const rows = new VectorizedRows(table);
        return { handle: rows, rows: rows.numRows };
      },
      release: () => undefined, // the tables are this process's own; dropping the reference frees them
    }, { maxPartitions: this.options.maxPartitions ?? 4, seed: this.options.seed ?? 0, epoch });
    try {
      for (;;) {
        const draw = await window.draw(this.options.batchSize);
        window.release();
        if (draw.rows === 0 || (draw.rows < this.options.batchSize && this.options.keepLast !== true)) break;
        yield tensorize(draw.tables, draw.picks);
      }
    } finally {
      this.maxHeld = Math.max(this.maxHeld, window.maxHeld);
      await window.close();
    }
  }
}
