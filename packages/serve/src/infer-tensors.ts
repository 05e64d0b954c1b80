// The tensors an infer request carries and answers with: their names, datatypes and shapes, shared by request
// parsing, the scoring pass and the model metadata endpoint, so the three cannot disagree.

/** Input tensors: `ids` and `values` are required; `times` and `forecast_times` only for time-aware families. */
export const INPUTS = {
  ids: { datatypes: ['BYTES'], shape: [-1], text: '[n]' },
  values: { datatypes: ['FP64', 'FP32'], shape: [-1, -1], text: '[n, t]' },
  times: { datatypes: ['FP64', 'INT64'], shape: [-1, -1], text: '[n, t]' },
  forecast_times: { datatypes: ['FP64', 'INT64'], shape: [-1], text: '[n]' },
} as const;

export type InputName = keyof typeof INPUTS;
export const INPUT_NAMES = Object.keys(INPUTS) as InputName[];

/** Output tensors, one element per id, in this order unless the request asks for some by name. */
export const OUTPUTS = {
  forecast: 'FP64',
  lower: 'FP64',
  upper: 'FP64',
  anomaly: 'BOOL',
} as const;

export type OutputName = keyof typeof OUTPUTS;
export const OUTPUT_NAMES = Object.keys(OUTPUTS) as OutputName[];

export function isInputName(name: string): name is InputName {
  return Object.hasOwn(INPUTS, name);
}

export function isOutputName(name: string): name is OutputName {
  return Object.hasOwn(OUTPUTS, name);
}
