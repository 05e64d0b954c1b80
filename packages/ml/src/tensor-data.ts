// Host tensors: a typed array with its dtype and static shape. This is what constants, weights, optimizer state
// and batches are made of, and what crosses into onnxruntime.
import { dtypeOfArray, type AnyTypedArray, type DType } from './dtype.js';
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
