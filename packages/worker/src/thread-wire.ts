// Packs batches of tasks and results into one transferable buffer for the trip between the worker's main
// thread and a task thread. Structured-cloning an array of small objects with typed arrays cost ~15 µs a task
// on each side (measured); one flat buffer, handed over without copying, costs a fraction of that. Large inputs
// and results are not packed: each travels as its own transferred buffer (see PACK_INPUT_LIMIT).
// Layout: little-endian; strings are u32 byte length + UTF-8; byte fields are u32 length + bytes, or the
// LARGE marker standing for the next entry of the batch's `large` list.
import type { CodecName } from '@loom/protocol';
import type { ThreadResult, ThreadTask } from './thread-messages.js';

const CODECS: readonly CodecName[] = ['v8', 'json', 'arrow-ipc'];

class Writer {
  readonly buffer: Buffer;
  offset = 0;
  constructor(capacity: number) {
    // Its own ArrayBuffer (never the shared pool), so it can be transferred.
    this.buffer = Buffer.allocUnsafeSlow(capacity);
  }
  u8(value: number): void {
    this.buffer[this.offset++] = value;
  }
  u32(value: number): void {
    this.buffer.writeUInt32LE(value, this.offset);
    this.offset += 4;
  }
  f64(value: number): void {
    this.buffer.writeDoubleLE(value, this.offset);
    this.offset += 8;
  }
  string(value: string): void {
    const written = this.buffer.write(value, this.offset + 4, 'utf8');
    this.buffer.writeUInt32LE(written, this.offset);
    this.offset += 4 + written;
  }
  bytes(value: Uint8Array): void {
    this.u32(value.byteLength);
    this.buffer.set(value, this.offset);
    this.offset += value.byteLength;
  }
  finish(): ArrayBuffer {
    return this.buffer.buffer as ArrayBuffer;
  }
}

class Reader {
  private readonly buffer: Buffer;
  private offset = 0;
  constructor(data: ArrayBuffer) {
    this.buffer = Buffer.from(data);
  }
  u8(): number {
    return this.buffer[this.offset++]!;
  }
  u32(): number {
    const value = this.buffer.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }
  f64(): number {
    const value = this.buffer.readDoubleLE(this.offset);
    this.offset += 8;
    return value;
  }
  string(): string {
    const length = this.u32();
    const value = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }
  /** A view into the batch buffer, no copy. */
  bytes(): Uint8Array {
    return this.bytesOfLength(this.u32());
  }
  bytesOfLength(length: number): Uint8Array {
    const view = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return view;
  }
}

/** UTF-8 needs at most 3 bytes per UTF-16 code unit. */
const stringBound = (value: string) => 4 + 3 * value.length;

/** Stands for the next entry of `large` where a byte field's length would be. */
const LARGE = 0xffffffff;

/**
 * Inputs larger than this are not copied into the batch buffer: each travels as its own buffer, at offset 0,
 * so the thread decodes it in place (v8.deserialize returns a top-level typed array as a view when aligned,
 * Arrow IPC reads its bodies as views). An input the task owns alone (`ownedInputs`, a fetched value no other
 * task waits for) is handed over as it is, without any copy; any other is copied once into a fresh buffer.
 */
export const PACK_INPUT_LIMIT = 64 * 1024;

export interface PackedTasks {
  data: ArrayBuffer;
  /** Large inputs in marker order, each the whole of its own ArrayBuffer. */
  large: Uint8Array[];
}

/** Whether `bytes` is all of a plain ArrayBuffer, so transferring that buffer hands over exactly these bytes. */
function ownsItsBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.buffer instanceof ArrayBuffer && bytes.byteLength === bytes.buffer.byteLength;
}

/**
 * Packs `tasks` for one postMessage. The buffers in `transfer` must be transferred with it: the batch buffer,
 * fresh copies of shared large inputs, and the buffers of owned ones (detached here once posted).
 */
export function packTasks(tasks: readonly ThreadTask[]): { packed: PackedTasks; transfer: ArrayBuffer[] } {
  let capacity = 4;
  for (const task of tasks) {
    capacity += stringBound(task.key) + stringBound(task.functionId) + 4 + task.args.byteLength + 4;
    for (const input of task.inputs) capacity += 1 + 4 + (input.bytes.byteLength > PACK_INPUT_LIMIT ? 0 : input.bytes.byteLength);
  }
  const writer = new Writer(capacity);
  const large: Uint8Array[] = [];
  const transfer = new Set<ArrayBuffer>([writer.buffer.buffer as ArrayBuffer]);
  writer.u32(tasks.length);
  for (const task of tasks) {
    writer.string(task.key);
    writer.string(task.functionId);
    writer.bytes(task.args);
    writer.u32(task.inputs.length);
    task.inputs.forEach((input, index) => {
      writer.u8(CODECS.indexOf(input.codec));
      if (input.bytes.byteLength <= PACK_INPUT_LIMIT) {
        writer.bytes(input.bytes);
        return;
      }
      writer.u32(LARGE);
      // new Uint8Array(view) copies just the view's bytes into a buffer of their own.
      const bytes = task.ownedInputs?.[index] === true && ownsItsBuffer(input.bytes) ? input.bytes : new Uint8Array(input.bytes);
      large.push(bytes);
      transfer.add(bytes.buffer as ArrayBuffer);
    });
  }
  return { packed: { data: writer.finish(), large }, transfer: [...transfer] };
}

export function unpackTasks({ data, large }: PackedTasks): ThreadTask[] {
  const reader = new Reader(data);
  const count = reader.u32();
  const tasks: ThreadTask[] = new Array(count);
  let largeIndex = 0;
  for (let i = 0; i < count; i++) {
    const key = reader.string();
    const functionId = reader.string();
    const args = reader.bytes();
    const inputCount = reader.u32();
    const inputs = new Array(inputCount);
    for (let j = 0; j < inputCount; j++) {
      const codec = CODECS[reader.u8()]!;
      const length = reader.u32();
      inputs[j] = { codec, bytes: length === LARGE ? large[largeIndex++]! : reader.bytesOfLength(length) };
    }
    tasks[i] = { key, functionId, args, inputs };
  }
  return tasks;
}

/**
 * Results small enough to share the batch buffer are packed; a large one travels as its own transferred
 * buffer (`large`), so a big result never keeps a whole batch alive and is never copied.
 */
export const PACK_RESULT_LIMIT = 64 * 1024;

export interface PackedResults {
  data: ArrayBuffer;
  large: Uint8Array[];
}

export function packResults(results: readonly ThreadResult[]): PackedResults {
  let capacity = 4;
  const errors: string[] = [];
  for (const result of results) {
    capacity += stringBound(result.key) + 1 + 8 + 1 + 4;
    if (result.ok) {
      if (result.bytes.byteLength <= PACK_RESULT_LIMIT) capacity += result.bytes.byteLength;
    } else {
      const text = JSON.stringify(result.error);
      errors.push(text);
      capacity += stringBound(text);
    }
  }
  const writer = new Writer(capacity);
  const large: Uint8Array[] = [];
  let errorIndex = 0;
  writer.u32(results.length);
  for (const result of results) {
    writer.string(result.key);
    writer.f64(result.durationMs);
    if (!result.ok) {
      writer.u8(0);
      writer.string(errors[errorIndex++]!);
      continue;
    }
    writer.u8(1);
    writer.u8(CODECS.indexOf(result.codec));
    if (result.bytes.byteLength <= PACK_RESULT_LIMIT) {
      writer.bytes(result.bytes);
    } else {
      writer.u32(LARGE);
      large.push(result.bytes);
    }
  }
  return { data: writer.finish(), large };
}

export function unpackResults({ data, large }: PackedResults): ThreadResult[] {
  const reader = new Reader(data);
  const count = reader.u32();
  const results: ThreadResult[] = new Array(count);
  let largeIndex = 0;
  for (let i = 0; i < count; i++) {
    const key = reader.string();
    const durationMs = reader.f64();
    if (reader.u8() === 0) {
      results[i] = { key, ok: false, durationMs, error: JSON.parse(reader.string()) };
      continue;
    }
    const codec = CODECS[reader.u8()]!;
    let bytes: Uint8Array;
    const marker = reader.u32();
    if (marker === LARGE) {
      bytes = large[largeIndex++]!;
    } else {
      // Copy small results out so each stored value owns its memory (and its size is what it holds).
      bytes = Buffer.from(reader.bytesOfLength(marker));
    }
    results[i] = { key, ok: true, codec, bytes, durationMs };
  }
  return results;
}
