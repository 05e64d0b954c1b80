// The out-of-core loader's core: which rows go into which batch, with a bounded number of partitions in memory.
// Each epoch shuffles the partition order, then walks it in groups of `groupSize` partitions: the rows of a group
// are shuffled together (within and across its partitions) and handed out in that order, while the next group
// is loaded. So at most two groups (`maxPartitions`) are held at once: the one being drawn from and the one
// being prefetched. Loading and releasing are the source's business (a cluster keeps the partitions on its
// workers; a local loader fetches them), which keeps this logic testable without a cluster.
import { MlError } from '../errors.js';
import { Rng } from '../random.js';

export interface WindowSource<H> {
  /** Makes partition `index` available and says how many rows it has. */
  load(index: number): Promise<{ handle: H; rows: number }>;
  /** The partition is no longer needed by the loader (work already submitted against it may still use it). */
  release(handle: H): void;
}

export interface WindowOptions {
  /** Partitions held at once, loaded and prefetching together; at least 2. */
  readonly maxPartitions: number;
  readonly seed: number;
  readonly epoch: number;
}

/** Rows drawn for one piece of work: `picks` are (index into `tables`, row) pairs, in training order. */
export interface Draw<H> {
  readonly tables: readonly H[];
  readonly picks: Int32Array;
  readonly rows: number;
}

interface LoadedGroup<H> {
  readonly handles: readonly H[];
  /** (partition within the group, row) pairs, shuffled. */
  readonly order: Int32Array;
  readonly rows: number;
  /** Rows handed out so far. */
  position: number;
}

/** Seeded streams of the loader, apart from those of initialization and dropout. */
const ORDER_STREAM = 0x5f1e;
const ROWS_STREAM = 0x5f1f;

export class ShuffleWindow<H> {
  private readonly groups: number[][];
  private nextGroup = 0;
  private current: LoadedGroup<H> | undefined;
  private prefetched: Promise<LoadedGroup<H>> | undefined;
  private releasable: H[] = [];
  /**
   * The most partitions held at once with rows still to draw (loaded or loading): at most maxPartitions.
   * Partitions whose rows are all drawn are held only until release(), once the work using them is submitted.
   */
  maxHeld = 0;

  constructor(partitions: number, private readonly source: WindowSource<H>, private readonly options: WindowOptions) {
    if (!Number.isInteger(options.maxPartitions) || options.maxPartitions < 2) {
      throw new MlError('INVALID_ARGUMENT', `maxPartitions must be an integer of at least 2, got ${options.maxPartitions}`);
    }
    const order = shuffled(partitions, new Rng(options.seed, ORDER_STREAM, options.epoch));
    const groupSize = Math.floor(options.maxPartitions / 2);
    this.groups = [];
    for (let i = 0; i < order.length; i += groupSize) this.groups.push(order.slice(i, i + groupSize));
  }

  /**
   * Up to `rows` rows, fewer only when the epoch runs out. Resolves once the partitions they come from are loaded;
   * call release() after submitting the work that uses them.
   */
  async draw(rows: number): Promise<Draw<H>> {
    const tables: H[] = [];
    const tableIndex = new Map<H, number>();
    const picks = new Int32Array(2 * rows);
    let taken = 0;
    while (taken < rows) {
      const group = await this.currentGroup();
      if (group === undefined) break;
      while (taken < rows && group.position < group.rows) {
        const handle = group.handles[group.order[2 * group.position] as number] as H;
        let index = tableIndex.get(handle);
        if (index === undefined) {
          index = tables.length;
          tables.push(handle);
          tableIndex.set(handle, index);
        }
        picks[2 * taken] = index;
        picks[2 * taken + 1] = group.order[2 * group.position + 1] as number;
        group.position++;
        taken++;
      }
      if (group.position === group.rows) {
        this.releasable.push(...group.handles);
        this.current = undefined;
      }
    }
    return { tables, picks: picks.subarray(0, 2 * taken), rows: taken };
  }

  /** Releases the partitions every row of which has been drawn. */
  release(): void {
    for (const handle of this.releasable) {
      this.source.release(handle);
    }
    this.releasable = [];
    this.maybePrefetch();
  }

  /** Releases everything still held (end of the epoch, or an error). */
  async close(): Promise<void> {
    this.release();
    if (this.current !== undefined) this.releaseGroup(this.current);
    this.current = undefined;
    const pending = this.prefetched;
    this.prefetched = undefined;
    if (pending !== undefined) {
      const group = await pending.catch(() => undefined);
      if (group !== undefined) this.releaseGroup(group);
    }
  }

  private releaseGroup(group: LoadedGroup<H>): void {
    for (const handle of group.handles) {
      this.source.release(handle);
    }
  }

  private async currentGroup(): Promise<LoadedGroup<H> | undefined> {
    while (this.current === undefined) {
      const next = this.prefetched ?? this.loadNextGroup();
      if (next === undefined) return undefined;
      this.prefetched = undefined;
      this.current = await next;
      this.maybePrefetch();
      if (this.current.rows === 0) {
        this.releasable.push(...this.current.handles);
        this.current = undefined;
      }
    }
    return this.current;
  }

  /** Loads the following group while the current one is drawn from. */
  private maybePrefetch(): void {
    if (this.prefetched !== undefined || this.current === undefined) return;
    this.prefetched = this.loadNextGroup();
    this.prefetched?.catch(() => undefined);
  }

  private loadNextGroup(): Promise<LoadedGroup<H>> | undefined {
    const partitions = this.groups[this.nextGroup];
    if (partitions === undefined) return undefined;
    const groupNumber = this.nextGroup++;
    this.maxHeld = Math.max(this.maxHeld, (this.current?.handles.length ?? 0) + partitions.length);
    return Promise.all(partitions.map((index) => this.source.load(index))).then((loaded) => {
      const total = loaded.reduce((sum, part) => sum + part.rows, 0);
      const order = new Int32Array(2 * total);
      let at = 0;
      loaded.forEach((part, p) => {
        for (let row = 0; row < part.rows; row++, at++) {
          order[2 * at] = p;
          order[2 * at + 1] = row;
        }
      });
      shufflePairs(order, new Rng(this.options.seed, ROWS_STREAM, this.options.epoch, groupNumber));
      return { handles: loaded.map((part) => part.handle), order, rows: total, position: 0 };
    });
  }
}

/** 0..n-1 in a seeded random order (Fisher-Yates). */
export function shuffled(n: number, rng: Rng): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j] as number, out[i] as number];
  }
  return out;
}

function shufflePairs(pairs: Int32Array, rng: Rng): void {
  for (let i = pairs.length / 2 - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const [a, b] = [pairs[2 * i] as number, pairs[2 * i + 1] as number];
    pairs[2 * i] = pairs[2 * j] as number;
    pairs[2 * i + 1] = pairs[2 * j + 1] as number;
    pairs[2 * j] = a;
    pairs[2 * j + 1] = b;
  }
}
