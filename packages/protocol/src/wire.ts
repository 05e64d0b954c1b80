// The generated protobuf messages, typed: the only door through which other modules reach generated code.
// Values (encode/decode, enums) come from the pbjs implementation, types from the pbts declarations;
// name message types as `loom.v1.ITaskSpec`, values as `pb.TaskSpec.encode(...)`.
import { loom as loomImpl } from './generated/loom-impl.js';
import type { loom } from './generated/loom-types.js';

export const pb = (loomImpl as unknown as typeof loom).v1;
export type { loom };
