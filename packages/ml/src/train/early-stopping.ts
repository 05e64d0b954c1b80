// Early stopping on held-out loss, as Keras' EarlyStopping(restore_best_weights) with ReduceLROnPlateau: train()
// scores its validation rows after every epoch. An epoch that does not beat the best loss so far is stale; the
// run stops once the best is `patience` epochs and at least `minSteps` steps old, and the caller ends with the
// best epoch's weights. Counting steps as well as epochs matters on small data: 30 steps an epoch is too few
// for a fresh CharCNN to leave its first plateau, and a run judged by epochs alone would stop before it learns.
// With the default learning rate, every stale stretch as long again halves the rate (reduce-on-plateau).

/** How much a plateau scales the default learning rate. */
const PLATEAU_FACTOR = 0.5;

export interface EarlyStoppingOptions {
  /** Stale epochs before stopping. */
  readonly patience: number;
  /** Steps the best epoch must be behind before stopping. */
  readonly minSteps: number;
  /** How much lower than the best a loss must be to count as better (tiny gains near zero loss are not progress). */
  readonly minDelta: number;
  /** Halve the rate after each plateau of `plateauEpochs` epochs and `plateauSteps` steps; undefined: never. */
  readonly plateau?: { readonly epochs: number; readonly steps: number };
}

export interface EpochVerdict {
  /** This epoch's loss is the best so far: keep its weights. */
  readonly best: boolean;
  /** The best epoch is old enough: stop training. */
  readonly stop: boolean;
}

interface Mark {
  readonly epoch: number;
  readonly step: number;
}

export class EarlyStopping {
  #bestLoss = Infinity;
  #best: Mark = { epoch: -1, step: 0 };
  /** The best epoch or the last rate cut, whichever is later: plateaus are measured from here. */
  #plateauStart: Mark = { epoch: -1, step: 0 };
  #rateScale = 1;

  constructor(private readonly options: EarlyStoppingOptions) {}

  /** Records the validation loss after epoch `epoch`, which ended at global step `step` (NaN never counts as better). */
  observe(epoch: number, step: number, loss: number): EpochVerdict {
    if (loss < this.#bestLoss - this.options.minDelta) {
      this.#bestLoss = loss;
      this.#best = { epoch, step };
      this.#plateauStart = this.#best;
      return { best: true, stop: false };
    }
    const { plateau } = this.options;
    if (plateau !== undefined && epoch - this.#plateauStart.epoch >= plateau.epochs && step - this.#plateauStart.step >= plateau.steps) {
      this.#rateScale *= PLATEAU_FACTOR;
      this.#plateauStart = { epoch, step };
    }
    return { best: false, stop: epoch - this.#best.epoch >= this.options.patience && step - this.#best.step >= this.options.minSteps };
  }

  /** The epoch whose loss is the best so far (-1 before any). */
  get bestEpoch(): number {
    return this.#best.epoch;
  }

  get bestLoss(): number {
    return this.#bestLoss;
  }

  /** What the default learning rate is multiplied by now. */
  get rateScale(): number {
    return this.#rateScale;
  }
}
