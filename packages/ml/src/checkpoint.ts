// Checkpoints: weights, optimizer state, step count and the run's seeds, enough to resume training exactly.
// On disk: "LOOMCKPT", a little-endian u32 header length, a JSON header, then the tensors' raw bytes (8-aligned).
import { readFile, writeFile, rename } from 'node:fs/promises';
import { allocate, bytesPerElement, type DType } from './dtype.js';
import { MlError } from './errors.js';
import type { OptimizerConfig } from './optimizers.js';
import { tensorBytes, type TensorData } from './tensor-data.js';
import type { WeightSet } from './weights.js';

export const CHECKPOINT_FORMAT = 'loom-ml-checkpoint/1';
const MAGIC = 'LOOMCKPT';

export interface Checkpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  /** ModelSpec.name of the model it was taken from. */
  readonly model: string;
  readonly optimizer: OptimizerConfig;
  /** Training steps completed. */
  readonly step: number;
  /** Seed and replica index that key the dropout masks of every step. */
  readonly seed: number;
  readonly replica: number;
  readonly weights: WeightSet;
  /** Optimizer state tensors by graph input name (momenta, Adam moments, Adam's step counter). */
  readonly state: Record<string, TensorData>;
}

interface TensorEntry {
  readonly group: 'weights' | 'state';
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly offset: number;
}

type Header = Omit<Checkpoint, 'weights' | 'state'> & { readonly tensors: readonly TensorEntry[] };

export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const tensors: TensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const group of ['weights', 'state'] as const) {
    for (const [name, value] of Object.entries(checkpoint[group])) {
      tensors.push({ group, name, dtype: value.dtype, shape: value.shape, offset });
      const bytes = tensorBytes(value);
      chunks.push(bytes);
      offset += align8(bytes.byteLength);
    }
  }
  const header: Header = {
    format: checkpoint.format, model: checkpoint.model, optimizer: checkpoint.optimizer,
    step: checkpoint.step, seed: checkpoint.seed, replica: checkpoint.replica, tensors,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = align8(MAGIC.length + 4 + json.byteLength);
  const out = new Uint8Array(start + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, json.byteLength, true);
  out.set(json, MAGIC.length + 4);
  tensors.forEach((entry, i) => out.set(chunks[i] as Uint8Array, start + entry.offset));
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  if (bytes.byteLength < MAGIC.length + 4 || new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) {
    throw new MlError('CHECKPOINT_MISMATCH', 'not a Loom checkpoint (bad magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(MAGIC.length, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + length))) as Header;
  if (header.format !== CHECKPOINT_FORMAT) {
    throw new MlError('CHECKPOINT_MISMATCH', `unsupported checkpoint format '${String(header.format)}'`);
  }
  const start = align8(MAGIC.length + 4 + length);
  const weights: WeightSet = {};
  const state: Record<string, TensorData> = {};
  for (const entry of header.tensors) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    const data = allocate(entry.dtype, size);
    const from = start + entry.offset;
    const byteLength = size * bytesPerElement(entry.dtype);
    if (from + byteLength > bytes.byteLength) throw new MlError('CHECKPOINT_MISMATCH', `checkpoint is truncated at '${entry.name}'`);
    // Copy into a fresh, aligned buffer: the file's bytes may sit at any offset.
    new Uint8Array(data.buffer).set(bytes.subarray(from, from + byteLength));
    (entry.group === 'weights' ? weights : state)[entry.name] = { dtype: entry.dtype, shape: [...entry.shape], data };
  }
  const { tensors: _tensors, ...rest } = header;
  return { ...rest, weights, state };
}

/** Writes atomically (temporary file, then rename), so a crash never leaves a torn checkpoint behind. */
export async function saveCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, encodeCheckpoint(checkpoint));
  await rename(temporary, path);
}

export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  return decodeCheckpoint(await readFile(path));
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
