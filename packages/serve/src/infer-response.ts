// The Open Inference Protocol's infer response: the model name and version that answered, the request's id,
// and the output tensors asked for, each of shape [n] (one element per id, in the request's order).
import type { InferRequest } from './infer-request.js';
import { OUTPUTS } from './infer-tensors.js';
import type { LoadedGroup } from './loaded-group.js';
import type { Scores } from './score-ids.js';

export function inferResponse(loaded: LoadedGroup, request: InferRequest, scores: Scores): string {
  const n = request.ids.length;
  const outputs = request.outputs.map((name) => ({
    name,
    datatype: OUTPUTS[name],
    shape: [n],
    data: name === 'anomaly' ? Array.from(scores.anomaly, (flag) => flag === 1) : Array.from(scores[name]),
  }));
  const response: Record<string, unknown> = { model_name: loaded.name, model_version: String(loaded.version) };
  if (request.id !== undefined) response['id'] = request.id;
  response['outputs'] = outputs;
  return JSON.stringify(response);
}
