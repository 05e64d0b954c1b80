// Host tensors: a typed array with its dtype and static shape. This is what constants, weights, optimizer state
// and batches are made of, and what crosses into onnxruntime.
import { allocate, dtypeOfArray, type AnyTypedArray, type DType } from './dtype.js';
import { formatShape } from './dims.js';
import { MlError } from './errors.js';

export interface TensorData {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: AnyTypedArray;
}

export function tensor(data: AnyTypedArray, shape: readonly number[]): TensorData {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new MlError('SHAPE_MISMATCH', `tensor of ${data.length} elements cannot have shape ${formatShape(shape)}`);
  }
  return { dtype: dtypeOfArray(data), shape: [...shape], data };
}

export function cloneTensor(value: TensorData): TensorData {
  return { dtype: value.dtype, shape: [...value.shape], data: value.data.slice() };
}

/** Little-endian bytes of a tensor's elements (the ONNX raw_data layout; every supported host is little-endian). */
export function tensorBytes(value: TensorData): Uint8Array {
  return new Uint8Array(value.data.buffer, value.data.byteOffset, value.data.byteLength);
}

/** Tensors of one dtype and shape stacked along a new leading axis (one row per step of a looped run). */
export function stack(values: readonly TensorData[]): TensorData {
  const [first] = values;
  if (first === undefined) throw new MlError('INVALID_ARGUMENT', 'nothing to stack');
  const size = first.data.length;
  const data = allocate(first.dtype, size * values.length);
  const bytes = tensorBytes({ ...first, data });
  values.forEach((value, i) => {
    if (value.dtype !== first.dtype || formatShape(value.shape) !== formatShape(first.shape)) {
      throw new MlError('SHAPE_MISMATCH', `cannot stack ${value.dtype}${formatShape(value.shape)} onto ${first.dtype}${formatShape(first.shape)}`);
    }
    bytes.set(tensorBytes(value), i * first.data.byteLength);
  });
  return { dtype: first.dtype, shape: [values.length, ...first.shape], data };
}

/** Row `index` of a stacked tensor, as a view (no copy). */
export function unstackRow(value: TensorData, index: number): TensorData {
  const [rows = 0, ...shape] = value.shape;
  if (!(index >= 0 && index < rows)) throw new MlError('INVALID_ARGUMENT', `row ${index} of a tensor of ${rows} rows`);
  const size = value.data.length / rows;
  return { dtype: value.dtype, shape, data: value.data.subarray(index * size, (index + 1) * size) as AnyTypedArray };
}
