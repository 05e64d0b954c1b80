// An Open Inference Protocol infer request, parsed and checked: every field known, every tensor of the right
// datatype and shape, every number finite. Whatever is wrong is a 400 naming the tensor or field and the
// problem; nothing the client sends can reach the scoring pass unchecked.
import { readCommonInferRequest } from './infer-request-common.js';
import { badInput } from './serve-error.js';
import { INPUT_NAMES, INPUTS, isInputName, isOutputName, OUTPUT_NAMES, type InputName, type OutputName } from './infer-tensors.js';

export interface InferRequest {
  /** The request's `id`, echoed in the response. */
  readonly id: string | undefined;
  readonly ids: readonly string[];
  /** Recent values, `ids.length x points`, row-major: row i is model ids[i]'s series, oldest first. */
  readonly values: Float64Array;
  readonly points: number;
  /** Time stamps of `values`, same shape, when the request gives them. */
  readonly times: Float64Array | undefined;
  /** The time of each forecast value (default: the last time plus the last spacing). */
  readonly forecastTimes: Float64Array | undefined;
  /** Outputs asked for, in order (all of them when the request names none). */
  readonly outputs: readonly OutputName[];
}

const REQUEST_FIELDS = ['id', 'parameters', 'inputs', 'outputs'];
const INPUT_FIELDS = ['name', 'shape', 'datatype', 'parameters', 'data'];
const OUTPUT_FIELDS = ['name', 'parameters'];

interface RawTensor {
  readonly where: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: readonly unknown[];
}

/** The request in `body`: the common shape read directly (readCommonInferRequest), anything else in full. */
export function parseInferRequest(body: Buffer): InferRequest {
  return readCommonInferRequest(body) ?? parseJsonInferRequest(body);
}

/** The general path: any request the protocol allows, through JSON.parse, with every check and its message. */
export function parseJsonInferRequest(body: Buffer): InferRequest {
  if (body.length === 0) throw badInput('request body', 'empty; send an inference request as JSON');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw badInput('request body', `not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const request = object(parsed, 'request body');
  knownFields(request, REQUEST_FIELDS, 'request');
  if (request['id'] !== undefined && typeof request['id'] !== 'string') throw badInput('id', `must be a string, got ${describe(request['id'])}`);
  if (request['parameters'] !== undefined) checkParameters(request['parameters'], 'parameters');
  const tensors = inputTensors(request['inputs']);
  const ids = idsOf(required(tensors, 'ids'));
  const valuesTensor = required(tensors, 'values');
  const [rows, points] = matrixShape(valuesTensor, ids.length);
  const values = numbers(valuesTensor, rows * points, false);
  const timesTensor = tensors.get('times');
  let times: Float64Array | undefined;
  if (timesTensor !== undefined) {
    const [, timePoints] = matrixShape(timesTensor, ids.length);
    if (timePoints !== points) throw badInput('times', `shape [${timesTensor.shape.join(', ')}] must equal the values' shape [${rows}, ${points}]`);
    times = numbers(timesTensor, rows * points, timesTensor.datatype === 'INT64');
  }
  const forecastTensor = tensors.get('forecast_times');
  let forecastTimes: Float64Array | undefined;
  if (forecastTensor !== undefined) {
    if (times === undefined) throw badInput('forecast_times', 'given without times; send the times of the values too');
    vectorShape(forecastTensor, ids.length);
    forecastTimes = numbers(forecastTensor, ids.length, forecastTensor.datatype === 'INT64');
  }
  const outputs = requestedOutputs(request['outputs']);
  return { id: request['id'] as string | undefined, ids, values, points, times, forecastTimes, outputs };
}

function inputTensors(inputs: unknown): Map<InputName, RawTensor> {
  if (!Array.isArray(inputs)) throw badInput('inputs', inputs === undefined ? `missing; send ${INPUT_NAMES.slice(0, 2).join(' and ')} tensors` : `must be an array of tensors, got ${describe(inputs)}`);
  const tensors = new Map<InputName, RawTensor>();
  inputs.forEach((value, i) => {
    const tensor = object(value, `inputs[${i}]`);
    knownFields(tensor, INPUT_FIELDS, `inputs[${i}]`);
    const name = tensor['name'];
    if (typeof name !== 'string') throw badInput(`inputs[${i}].name`, `must be a string, got ${describe(name)}`);
    if (!isInputName(name)) throw badInput(`inputs[${i}]`, `unknown input ${JSON.stringify(name.slice(0, 100))} (inputs are ${INPUT_NAMES.join(', ')})`);
    if (tensors.has(name)) throw badInput(name, 'given twice');
    if (tensor['parameters'] !== undefined) checkParameters(tensor['parameters'], `${name}.parameters`);
    const datatype = tensor['datatype'];
    const allowed: readonly string[] = INPUTS[name].datatypes;
    if (typeof datatype !== 'string' || !allowed.includes(datatype)) {
      throw badInput(name, `datatype ${quoted(datatype)} is not ${allowed.join(' or ')}`);
    }
    const shape = tensor['shape'];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw badInput(name, `shape must be an array of non-negative integers, got ${describe(shape)}`);
    }
    // Every input is a vector or a matrix; checked before the data is walked, so its depth is bounded.
    const rank = INPUTS[name].shape.length;
    if (!(shape.length === rank || (name === 'ids' && shape.length === 2))) throw badInput(name, `shape must be ${INPUTS[name].text}, got [${shape.join(', ')}]`);
    const data = tensor['data'];
    if (!Array.isArray(data)) throw badInput(name, data === undefined ? 'has no data' : `data must be an array, got ${describe(data)}`);
    tensors.set(name, { where: name, datatype, shape: shape as number[], data: flatten(name, data, shape as number[]) });
  });
  return tensors;
}

/**
 * The tensor's elements in row-major order. The protocol allows the data flat or nested as the shape says; a
 * nested array must match the shape at every level.
 */
function flatten(where: string, data: readonly unknown[], shape: readonly number[]): readonly unknown[] {
  const count = shape.reduce((product, d) => product * d, 1);
  if (!data.some(Array.isArray)) {
    if (data.length !== count) throw badInput(where, `has ${data.length} elements, its shape [${shape.join(', ')}] says ${count}`);
    return data;
  }
  const flat: unknown[] = [];
  const walk = (level: readonly unknown[], depth: number): void => {
    if (level.length !== shape[depth]) throw badInput(where, `nested data does not match its shape [${shape.join(', ')}]: a level of ${level.length} elements where the shape says ${String(shape[depth])}`);
    for (const item of level) {
      if (depth + 1 < shape.length) {
        if (!Array.isArray(item)) throw badInput(where, `nested data does not match its shape [${shape.join(', ')}]: ${describe(item)} where an array of ${String(shape[depth + 1])} was expected`);
        walk(item, depth + 1);
      } else if (Array.isArray(item)) {
        throw badInput(where, `nested data is deeper than its shape [${shape.join(', ')}]`);
      } else {
        flat.push(item);
      }
    }
  };
  walk(data, 0);
  return flat;
}

function idsOf(tensor: RawTensor): string[] {
  const { shape } = tensor;
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) throw badInput('ids', `shape must be [n] (one id per row), got [${shape.join(', ')}]`);
  if (shape[0] === 0) throw badInput('ids', 'is empty; name at least one model');
  return tensor.data.map((id, i) => {
    if (typeof id !== 'string') throw badInput('ids', `element ${i} is ${describe(id)}; model ids are strings (BYTES)`);
    return id;
  });
}

/** [rows, points] of an [n, t] tensor whose n must be the number of ids. */
function matrixShape(tensor: RawTensor, rows: number): [number, number] {
  const { shape, where } = tensor;
  if (shape.length !== 2) throw badInput(where, `shape must be [n, t] (a row of t values per id), got [${shape.join(', ')}]`);
  if (shape[0] !== rows) throw badInput(where, `has ${String(shape[0])} rows, but ids names ${rows} models`);
  if (shape[1] === 0) throw badInput(where, 'has no values per row (shape [n, 0])');
  return [rows, shape[1] as number];
}

function vectorShape(tensor: RawTensor, rows: number): void {
  const { shape, where } = tensor;
  if (shape.length !== 1 || shape[0] !== rows) throw badInput(where, `shape must be [${rows}] (one per id), got [${shape.join(', ')}]`);
}

function numbers(tensor: RawTensor, count: number, integers: boolean): Float64Array {
  const out = new Float64Array(count);
  const { data, where, shape } = tensor;
  for (let i = 0; i < count; i++) {
    const value = data[i];
    if (typeof value !== 'number' || !Number.isFinite(value) || (integers && !Number.isSafeInteger(value))) {
      const at = shape.length === 2 ? `element [${Math.floor(i / (shape[1] as number))}, ${i % (shape[1] as number)}]` : `element ${i}`;
      throw badInput(where, `${at} is ${describe(value)}; ${integers ? 'INT64 elements must be integers' : 'values must be finite numbers (no NaN, no infinity: fill or drop missing values)'}`);
    }
    out[i] = value;
  }
  return out;
}

function requestedOutputs(outputs: unknown): OutputName[] {
  if (outputs === undefined) return OUTPUT_NAMES;
  if (!Array.isArray(outputs)) throw badInput('outputs', `must be an array, got ${describe(outputs)}`);
  const names: OutputName[] = [];
  outputs.forEach((value, i) => {
    const output = object(value, `outputs[${i}]`);
    knownFields(output, OUTPUT_FIELDS, `outputs[${i}]`);
    const name = output['name'];
    if (typeof name !== 'string' || !isOutputName(name)) throw badInput(`outputs[${i}]`, `unknown output ${quoted(name)} (outputs are ${OUTPUT_NAMES.join(', ')})`);
    if (names.includes(name)) throw badInput(`outputs[${i}]`, `output ${name} is asked for twice`);
    if (output['parameters'] !== undefined) checkParameters(output['parameters'], `outputs[${i}].parameters`);
    names.push(name);
  });
  return names.length === 0 ? OUTPUT_NAMES : names;
}

/** Parameters are an open map in the protocol; only the binary-data extension, which this server lacks, is refused. */
function checkParameters(value: unknown, where: string): void {
  const parameters = object(value, where);
  for (const key of ['binary_data', 'binary_data_size', 'binary_data_output']) {
    if (parameters[key] !== undefined && parameters[key] !== false) throw badInput(where, `${key}: the binary tensor data extension is not supported; send tensors as JSON`);
  }
}

function required(tensors: Map<InputName, RawTensor>, name: InputName): RawTensor {
  const tensor = tensors.get(name);
  if (tensor === undefined) throw badInput('inputs', `no ${name} tensor (an infer request needs ids, BYTES [n], and values, FP64 [n, t])`);
  return tensor;
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badInput(where, `must be a JSON object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function knownFields(value: Record<string, unknown>, fields: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!fields.includes(key)) throw badInput(where, `unknown field ${JSON.stringify(key.slice(0, 100))} (known: ${fields.join(', ')})`);
  }
}

/** A name as the client wrote it, quoted; anything else described. */
function quoted(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : describe(value);
}

/** A short description of a JSON value for an error message (never the whole value). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

