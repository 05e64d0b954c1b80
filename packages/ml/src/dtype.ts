// Element types Loom graphs use, and their mapping to ONNX TensorProto.DataType codes, typed arrays and
// onnxruntime-node's type names. Float graphs are float32 for training and float64 for exact gradient checks.
import { MlError } from './errors.js';

export type FloatType = 'float32' | 'float64';
export type DType = FloatType | 'int64' | 'int32' | 'bool';

export type TypedArrayOf<T extends DType> =
  T extends 'float32' ? Float32Array :
  T extends 'float64' ? Float64Array :
  T extends 'int64' ? BigInt64Array :
  T extends 'int32' ? Int32Array :
  Uint8Array;

export type AnyTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

const onnxCodes: Record<DType, number> = { float32: 1, float64: 11, int64: 7, int32: 6, bool: 9 };

export function onnxDataType(dtype: DType): number {
  return onnxCodes[dtype];
}

export function dtypeFromOnnx(code: number): DType {
  const found = (Object.keys(onnxCodes) as DType[]).find((key) => onnxCodes[key] === code);
  if (found === undefined) throw new MlError('INVALID_ARGUMENT', `unsupported ONNX data type ${code}`);
  return found;
}

export function isFloat(dtype: DType): dtype is FloatType {
  return dtype === 'float32' || dtype === 'float64';
}

export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case 'float32': case 'int32': return 4;
    case 'float64': case 'int64': return 8;
    case 'bool': return 1;
  }
}

export function allocate<T extends DType>(dtype: T, length: number): TypedArrayOf<T> {
  switch (dtype) {
    case 'float32': return new Float32Array(length) as TypedArrayOf<T>;
    case 'float64': return new Float64Array(length) as TypedArrayOf<T>;
    case 'int64': return new BigInt64Array(length) as TypedArrayOf<T>;
    case 'int32': return new Int32Array(length) as TypedArrayOf<T>;
    default: return new Uint8Array(length) as TypedArrayOf<T>;
  }
}

/** The dtype a typed array holds (Uint8Array is read as bool). */
export function dtypeOfArray(data: AnyTypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return 'bool';
}
