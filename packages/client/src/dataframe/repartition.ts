// How repartition maps input partitions to output partitions, as data (so it is testable without a graph):
// fewer outputs concatenate runs of adjacent inputs; more outputs split each input into near-equal pieces,
// spreading the extra pieces over the first inputs (Dask's repartition by npartitions does the same).

export type RepartitionOutput =
  | { kind: 'concat'; inputs: number[] }
  | { kind: 'slice'; input: number; piece: number; pieces: number };

export function planRepartition(inputs: number, outputs: number): RepartitionOutput[] {
  if (!Number.isInteger(outputs) || outputs < 1) throw new RangeError(`npartitions must be a positive integer, got ${outputs}`);
  if (inputs === 0) throw new RangeError('cannot repartition a DataFrame with no partitions');
  if (outputs <= inputs) {
    const plan: RepartitionOutput[] = [];
    for (let j = 0; j < outputs; j++) {
      const from = Math.floor((j * inputs) / outputs);
      const to = Math.floor(((j + 1) * inputs) / outputs);
      plan.push({ kind: 'concat', inputs: range(from, to) });
    }
    return plan;
  }
  const base = Math.floor(outputs / inputs);
  const extra = outputs % inputs;
  const plan: RepartitionOutput[] = [];
  for (let input = 0; input < inputs; input++) {
    const pieces = base + (input < extra ? 1 : 0);
    for (let piece = 0; piece < pieces; piece++) plan.push({ kind: 'slice', input, piece, pieces });
  }
  return plan;
}

function range(from: number, to: number): number[] {
  const values: number[] = [];
  for (let i = from; i < to; i++) values.push(i);
  return values;
}
