// Tables that come from user code, wherever Loom takes one (fromArrow, task results, task arguments): an Arrow
// table of any apache-arrow copy or version becomes a table of Loom's own copy, and Arrow IPC bytes are read
// only when they really are Arrow IPC. Recognition is by shape, not instanceof: another copy's Table is another
// class, and apache-arrow 21.2's cross-copy instanceof says yes to tables Loom's copy then misreads.
import { RecordBatchReader, Table } from 'apache-arrow';
import { LoomError } from './errors.js';
import { isOwnTable, rebuildTable } from './arrow-rebuild.js';

/** What an Arrow table of any apache-arrow copy looks like from outside (Loom's own Table is one). */
export interface ArrowTableLike {
  readonly schema: { readonly fields: readonly unknown[] };
  readonly batches: readonly unknown[];
  readonly numRows: number;
}

/** apache-arrow's own cross-copy mark (21.2 and later); earlier copies are known by their class's name. */
const TABLE_MARK = Symbol.for('apache-arrow/Table');

/** True for an Arrow Table of any apache-arrow copy or version. */
export function isArrowTableLike(value: unknown): value is ArrowTableLike {
  if (typeof value !== 'object' || value === null) return false;
  const table = value as Partial<Record<string | symbol, unknown>> & { schema?: { fields?: unknown } };
  if (typeof table.numRows !== 'number' || !Array.isArray(table.batches) || !Array.isArray(table.schema?.fields)) return false;
  if (table[TABLE_MARK] === true) return true;
  const constructor = table.constructor as unknown as (Partial<Record<symbol, unknown>> & { name?: unknown }) | undefined;
  return constructor?.[Symbol.toStringTag] === 'Table' || constructor?.name === 'Table';
}

/**
 * `value` as a table of Loom's apache-arrow: one of Loom's own as it is, one of another copy rebuilt over the
 * same buffers, anything else undefined. A table that cannot be read fails with a LoomError naming `what`.
 */
export function asLoomTable(value: unknown, what: string): Table | undefined {
  if (isOwnTable(value)) return value;
  return isArrowTableLike(value) ? rebuildTable(value, what) : undefined;
}

const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const CONTINUATION = 0xffffffff;

/**
 * Arrow IPC bytes, stream or file format, as a table. Bytes that are not Arrow IPC fail with a LoomError saying
 * what was found, where apache-arrow alone would read many of them (empty, JSON, zeros) as a table of no rows.
 */
export function readArrowIpc(bytes: Uint8Array, what: string): Table {
  const format = ipcFormat(bytes, what);
  let reader;
  try {
    reader = RecordBatchReader.from(bytes);
    reader.open();
  } catch (error) {
    throw notIpc(what, `they begin like the Arrow IPC ${format} format but cannot be read: ${(error as Error).message}`);
  }
  if (!reader.schema) throw notIpc(what, `they hold no schema message (${bytes.byteLength} bytes)`);
  try {
    return new Table(reader.schema, reader.readAll());
  } catch (error) {
    throw notIpc(what, `a record batch cannot be read (truncated?): ${(error as Error).message}`);
  }
}

function ipcFormat(bytes: Uint8Array, what: string): 'file' | 'stream' {
  if (bytes.byteLength < 8) throw notIpc(what, `${bytes.byteLength} bytes are too few for any Arrow IPC message`);
  if (FILE_MAGIC.every((byte, i) => bytes[i] === byte)) {
    const tail = bytes.byteLength - FILE_MAGIC.length;
    if (!FILE_MAGIC.every((byte, i) => bytes[tail + i] === byte)) throw notIpc(what, 'they begin as an Arrow IPC file but do not end as one (truncated?)');
    return 'file';
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // A stream message starts with the continuation marker, or (before Arrow 0.15) directly with its length.
  const continued = view.getUint32(0, true) === CONTINUATION;
  const length = view.getInt32(continued ? 4 : 0, true);
  const start = continued ? 8 : 4;
  if (length <= 0 || start + length > bytes.byteLength) {
    const found = Array.from(bytes.subarray(0, 8), (byte) => byte.toString(16).padStart(2, '0')).join(' ');
    throw notIpc(what, `they start with ${found}, neither the "ARROW1" of the file format nor a stream's first message`);
  }
  return 'stream';
}

function notIpc(what: string, reason: string): LoomError {
  return new LoomError('SERIALIZATION_FAILED', `${what} are not Arrow IPC bytes: ${reason}`);
}
