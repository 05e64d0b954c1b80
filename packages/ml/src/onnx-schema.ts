// The generated ONNX protobuf messages, typed: the only door through which other modules reach generated code.
// Values (encode/decode) come from the pbjs implementation, types from the pbts declarations.
import { onnx as onnxImpl } from './generated/onnx-impl.js';
import type { onnx } from './generated/onnx-types.js';

export const onnxPb = onnxImpl as unknown as typeof onnx;
export type { onnx };
