// The Open Inference Protocol's infer response: the model name and version that answered, the request's id,
// and the output tensors asked for, each of shape [n] (one element per id, in the request's order).
//
// Written as text directly rather than through an object tree and JSON.stringify: a single-model answer is
// on the path of every request, and building then serializing the tree took about as long as scoring. A
// number's text is the same as JSON.stringify writes (both use Number.prototype.toString); a value that is
// not finite, which JSON has no number for, is written as null, as JSON.stringify does.
import type { InferRequest } from './infer-request.js';
import { OUTPUTS, type OutputName } from './infer-tensors.js';
import type { LoadedGroup } from './loaded-group.js';
import type { Scores } from './score-ids.js';

export function inferResponse(loaded: LoadedGroup, request: InferRequest, scores: Scores): string {
  const n = request.ids.length;
  let text = `{"model_name":${JSON.stringify(loaded.name)},"model_version":"${loaded.version}"`;
  if (request.id !== undefined) text += `,"id":${JSON.stringify(request.id)}`;
  text += ',"outputs":[';
  request.outputs.forEach((name: OutputName, i) => {
    if (i > 0) text += ',';
    text += `{"name":"${name}","datatype":"${OUTPUTS[name]}","shape":[${n}],"data":[${name === 'anomaly' ? flags(scores.anomaly) : numbers(scores[name])}]}`;
  });
  return `${text}]}`;
}

function numbers(values: Float64Array): string {
  let text = '';
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (i > 0) text += ',';
    text += Number.isFinite(value) ? String(value) : 'null';
  }
  return text;
}

function flags(values: Uint8Array): string {
  let text = '';
  for (let i = 0; i < values.length; i++) text += i > 0 ? (values[i] === 1 ? ',true' : ',false') : values[i] === 1 ? 'true' : 'false';
  return text;
}
