// Encodes graph chunks straight from the client's TaskNodes into protobuf bytes, with exact sizes: a
// SubmitGraphRequest, alone or as the `submit` field of a ClientToScheduler session message. Equivalent to
// protobufjs's encoders (the tests decode with them) without a TaskSpec object per task or protobufjs's
// per-field operation list: a 65,535-task graph is one pass of arithmetic and copies.
import type { loom } from '@loom/protocol';
import type { TaskNode } from './task-node.js';

export interface ChunkMessage {
  clientId: string;
  graphId: string;
  /** A contiguous run of the ordered graph: task i has order `firstOrder + i`. */
  tasks: readonly TaskNode[];
  /** Each task's TaskSpec body size, when already measured (planning does). */
  taskSizes?: readonly number[];
  firstOrder: number;
  functions: readonly loom.v1.IFunctionDef[];
  wantedKeys: readonly string[];
  final: boolean;
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;

export function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** Size of a length-delimited field (tag, length, payload) with a field number below 16. */
function delimitedSize(length: number): number {
  return 1 + varintSize(length) + length;
}

function stringFieldSize(value: string): number {
  return value === '' ? 0 : delimitedSize(Buffer.byteLength(value));
}

function int32FieldSize(value: number): number {
  // A negative int32 is sign-extended to a 10-byte varint.
  return value === 0 ? 0 : 1 + (value < 0 ? 10 : varintSize(value));
}

/** The encoded size of a TaskSpec's body (without its own tag and length). */
export function taskSpecSize(node: TaskNode, order: number): number {
  let size = stringFieldSize(node.key) + stringFieldSize(node.fn.id);
  if (node.args.byteLength > 0) size += delimitedSize(node.args.byteLength);
  for (const dependency of node.dependencies) size += stringFieldSize(dependency.key);
  size += int32FieldSize(node.priority) + int32FieldSize(order) + int32FieldSize(node.retries);
  if (node.resources) {
    for (const name of Object.keys(node.resources)) size += delimitedSize(stringFieldSize(name) + 9);
  }
  return size;
}

/** The encoded size of a FunctionDef's body. */
export function functionDefSize(def: loom.v1.IFunctionDef): number {
  let size = stringFieldSize(def.id ?? '') + stringFieldSize(def.name ?? '');
  if (def.module) size += delimitedSize(stringFieldSize(def.module.specifier ?? '') + stringFieldSize(def.module.exportName ?? ''));
  else if (def.chain) size += delimitedSize(chainBodySize(def.chain));
  else size += delimitedSize(Buffer.byteLength(def.source ?? ''));
  return size;
}

function chainBodySize(chain: loom.v1.IFusedChain): number {
  let size = 0;
  for (const id of chain.functionIds ?? []) size += stringFieldSize(id);
  return size;
}

/** Encodes one SubmitGraphRequest. */
export function encodeChunk(message: ChunkMessage): Buffer {
  return encode(message, undefined);
}

/** Encodes `ClientToScheduler { submit: chunk }` for the session stream. */
export function encodeSessionSubmit(message: ChunkMessage): Buffer {
  return encode(message, SESSION_SUBMIT_FIELD);
}

// ClientToScheduler.submit.
const SESSION_SUBMIT_FIELD = 4;

function encode(message: ChunkMessage, outerField: number | undefined): Buffer {
  const taskSizes = message.taskSizes ?? message.tasks.map((node, i) => taskSpecSize(node, message.firstOrder + i));
  const functionSizes = message.functions.map(functionDefSize);
  let total = stringFieldSize(message.clientId) + stringFieldSize(message.graphId) + (message.final ? 2 : 0);
  for (const size of taskSizes) total += delimitedSize(size);
  for (const size of functionSizes) total += delimitedSize(size);
  for (const key of message.wantedKeys) total += stringFieldSize(key);

  const writer = new Writer(outerField === undefined ? total : delimitedSize(total));
  if (outerField !== undefined) writer.header(outerField, total);
  writer.string(1, message.clientId);
  writer.string(2, message.graphId);
  message.tasks.forEach((node, i) => {
    writer.header(3, taskSizes[i] as number);
    writeTask(writer, node, message.firstOrder + i);
  });
  message.functions.forEach((def, i) => {
    writer.header(4, functionSizes[i] as number);
    writeFunction(writer, def);
  });
  for (const key of message.wantedKeys) writer.string(5, key);
  if (message.final) {
    writer.tag(6, VARINT);
    writer.varint(1);
  }
  return writer.finish();
}

function writeTask(writer: Writer, node: TaskNode, order: number): void {
  writer.string(1, node.key);
  writer.string(2, node.fn.id);
  if (node.args.byteLength > 0) writer.bytes(3, node.args);
  for (const dependency of node.dependencies) writer.string(4, dependency.key);
  writer.int32(5, node.priority);
  writer.int32(6, order);
  writer.int32(7, node.retries);
  if (node.resources) {
    for (const [name, amount] of Object.entries(node.resources)) {
      writer.header(8, stringFieldSize(name) + 9);
      writer.string(1, name);
      writer.tag(2, FIXED64);
      writer.double(amount);
    }
  }
}

function writeFunction(writer: Writer, def: loom.v1.IFunctionDef): void {
  writer.string(1, def.id ?? '');
  writer.string(2, def.name ?? '');
  if (def.module) {
    writer.header(4, stringFieldSize(def.module.specifier ?? '') + stringFieldSize(def.module.exportName ?? ''));
    writer.string(1, def.module.specifier ?? '');
    writer.string(2, def.module.exportName ?? '');
  } else if (def.chain) {
    writer.header(5, chainBodySize(def.chain));
    for (const id of def.chain.functionIds ?? []) writer.string(1, id);
  } else {
    const source = def.source ?? '';
    writer.header(3, Buffer.byteLength(source));
    writer.raw(source);
  }
}

class Writer {
  private readonly buffer: Buffer;
  private position = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  tag(field: number, wireType: number): void {
    this.buffer[this.position++] = (field << 3) | wireType;
  }

  varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.position++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.buffer[this.position++] = rest;
  }

  /** Tag and length of a length-delimited field. */
  header(field: number, length: number): void {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(length);
  }

  string(field: number, value: string): void {
    if (value === '') return;
    this.header(field, Buffer.byteLength(value));
    this.raw(value);
  }

  raw(value: string): void {
    this.position += this.buffer.write(value, this.position);
  }

  bytes(field: number, value: Uint8Array): void {
    this.header(field, value.byteLength);
    this.buffer.set(value, this.position);
    this.position += value.byteLength;
  }

  int32(field: number, value: number): void {
    if (value === 0) return;
    this.tag(field, VARINT);
    if (value > 0) {
      this.varint(value);
      return;
    }
    // Two's complement over 64 bits: the low 32 bits as given, the high 32 bits all ones.
    let low = value >>> 0;
    for (let i = 0; i < 4; i++) {
      this.buffer[this.position++] = (low & 0x7f) | 0x80;
      low >>>= 7;
    }
    this.buffer[this.position++] = (low & 0x0f) | 0x70 | 0x80;
    for (let i = 0; i < 4; i++) this.buffer[this.position++] = 0xff;
    this.buffer[this.position++] = 0x01;
  }

  double(value: number): void {
    this.buffer.writeDoubleLE(value, this.position);
    this.position += 8;
  }

  finish(): Buffer {
    if (this.position !== this.buffer.length) {
      throw new Error(`graph encoder wrote ${this.position} bytes, expected ${this.buffer.length}`);
    }
    return this.buffer;
  }
}
