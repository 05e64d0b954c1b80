// Saying so when a trained model is no better than guessing: held-out accuracy that removes less than a tenth of
// the errors of always answering the most common class (below 55 % on a balanced two-class task, 91 % where one
// class is 90 % of the rows) means the run learned next to nothing, whatever its loss curve looks like.

/** The share of the majority baseline's errors a model must remove not to be called near chance. */
export const NEAR_CHANCE_ERROR_REDUCTION = 0.1;

/** The accuracy of always answering the most common class, from rows per class. */
export function majorityBaseline(labelCounts: readonly number[]): number {
  const rows = labelCounts.reduce((sum, count) => sum + count, 0);
  return rows === 0 ? 0 : Math.max(...labelCounts) / rows;
}

/** How a run ended, for the advice: early stopping cut it short after `epochs` epochs of `steps` steps. */
export interface StoppedEarly {
  readonly epochs: number;
  readonly steps: number;
}

/** A warning when `accuracy` on the held-out rows is within the near-chance margin of the majority baseline. */
export function nearChanceWarning(
  accuracy: number, labelCounts: readonly number[], heldOut: 'test' | 'validation', stoppedEarly?: StoppedEarly,
): string | undefined {
  const baseline = majorityBaseline(labelCounts);
  if (accuracy >= baseline + NEAR_CHANCE_ERROR_REDUCTION * (1 - baseline)) return undefined;
  const percent = (value: number): string => `${(100 * value).toFixed(1)} %`;
  // A weak signal can keep a fresh network at chance for hundreds of steps before it learns: say how to wait longer.
  const stopped = stoppedEarly === undefined ? '' : ` Early stopping ended the run after ${stoppedEarly.epochs} epochs ` +
    `(${stoppedEarly.steps} steps); a larger \`patience\` trains longer.`;
  return `${heldOut} accuracy ${percent(accuracy)} is near chance: always answering the most common class scores ${percent(baseline)}. ` +
    'The model learned little; try more epochs, a different learning rate, less dropout, a larger model or more data, and check ' +
    `that the labels match the text.${stopped}`;
}
