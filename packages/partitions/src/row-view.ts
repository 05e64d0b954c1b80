// The row object user row functions receive: one object per schema, re-pointed at each row, whose properties
// read their column only when touched. Values are the ones Arrow's Vector.get gives (what a row held when rows
// were plain objects built from every column): numbers, bigints, booleans, strings, Uint8Array views, Vectors.
import { DateUnit, Precision, TimeUnit, Type, Vector, type DataType, type RecordBatch, type Schema } from 'apache-arrow';

/**
 * A reused row: `bind` points it at a record batch, `at` at one of its rows. Its columns are own, enumerable
 * getter properties (so `Object.keys`, spread and `JSON.stringify` see them as on a plain object); assigning
 * one keeps the value for the current row only. The same object is handed out for every row, so a row function
 * that keeps a reference sees later rows through it; values it read out (strings, numbers) stay correct.
 */
export interface RowView {
  readonly row: Record<string, unknown>;
  bind(batch: RecordBatch): void;
  at(i: number): void;
  /** Drops the references to the batch's buffers (views are cached and would keep the last batch alive). */
  release(): void;
}

type Kind = 'number' | 'bool' | 'utf8' | 'binary' | 'dateDay' | 'int64Millis' | 'other';

interface CachedView {
  view: RowView;
  inUse: boolean;
}

const factories = new Map<string, () => RowView>();
const views = new Map<string, CachedView>();
const MAX_CACHED = 64;

/**
 * Runs `use` with the row view for `schema`. One view per schema is kept and reused, so the user function
 * sees one object shape across partitions (its property accesses stay monomorphic); a nested use gets a
 * fresh one.
 */
export function withRowView<T>(schema: Schema, use: (view: RowView) => T): T {
  const kinds = schema.fields.map((field) => kindOf(field.type as DataType));
  const key = JSON.stringify(schema.fields.map((field, c) => [field.name, kinds[c]]));
  let cached = views.get(key);
  if (cached === undefined || cached.inUse) {
    const fresh: CachedView = { view: factoryFor(key, schema.fields.map((field) => field.name), kinds)(), inUse: false };
    if (cached === undefined) {
      if (views.size >= MAX_CACHED) views.delete(views.keys().next().value as string);
      views.set(key, fresh);
    }
    cached = fresh;
  }
  cached.inUse = true;
  try {
    return use(cached.view);
  } finally {
    cached.view.release();
    cached.inUse = false;
  }
}

function kindOf(type: DataType): Kind {
  switch (type.typeId) {
    case Type.Int:
    case Type.Time:
    case Type.Duration:
      return 'number'; // values[i]: a number, or a bigint for 64-bit ones (as Vector.get)
    case Type.Float:
      return (type as unknown as { precision: Precision }).precision === Precision.HALF ? 'other' : 'number';
    case Type.Bool:
      return 'bool';
    case Type.Utf8:
      return 'utf8';
    case Type.Binary:
      return 'binary';
    case Type.Date:
      return (type as unknown as { unit: DateUnit }).unit === DateUnit.DAY ? 'dateDay' : 'int64Millis';
    case Type.Timestamp:
      return (type as unknown as { unit: TimeUnit }).unit === TimeUnit.MILLISECOND ? 'int64Millis' : 'other';
    default:
      return 'other';
  }
}

/** Reading column c at row i, for a valid row (null checks wrap it). */
function valueExpression(kind: Kind, c: number): string {
  switch (kind) {
    case 'number':
      return `v${c}[i]`;
    case 'bool':
      return `((v${c}[(o${c} + i) >> 3] >> ((o${c} + i) & 7)) & 1) === 1`;
    case 'utf8':
      return `h.utf8(b${c}, f${c}[i], f${c}[i + 1])`;
    case 'binary':
      return `v${c}.subarray(f${c}[i], f${c}[i + 1])`;
    case 'dateDay':
      return `86400000 * v${c}[i]`;
    case 'int64Millis':
      return `h.millis(v${c}, g${c}, i)`;
    case 'other':
      return `h.orNull(g${c}.get(i))`;
  }
}

/** Per-column state set by bind() for a batch's column `d`. */
function bindStatements(kind: Kind, c: number): string {
  const lines = [`d = ch[${c}];`, `n${c} = h.nulls(d);`, `o${c} = d.offset;`, `s${c} = -1;`, `w${c} = undefined;`];
  switch (kind) {
    case 'utf8':
      lines.push(`b${c} = h.buffer(d.values);`, `f${c} = d.valueOffsets;`);
      break;
    case 'binary':
      lines.push(`v${c} = d.values;`, `f${c} = d.valueOffsets;`);
      break;
    case 'int64Millis':
      lines.push(`v${c} = h.words(d.values);`, `g${c} = new h.Vector([d]);`);
      break;
    case 'other':
      lines.push(`g${c} = new h.Vector([d]);`);
      break;
    default:
      lines.push(`v${c} = d.values;`);
  }
  return lines.join(' ');
}

function releaseStatements(kind: Kind, c: number): string {
  const lines = [`n${c} = null;`, `w${c} = undefined;`];
  if (kind === 'utf8') lines.push(`b${c} = h.emptyBuffer;`, `f${c} = h.emptyOffsets;`);
  else if (kind === 'binary') lines.push(`v${c} = h.emptyBytes;`, `f${c} = h.emptyOffsets;`);
  else if (kind === 'other' || kind === 'int64Millis') lines.push(`g${c} = null;`, `v${c} = h.emptyWords;`);
  else lines.push(`v${c} = h.emptyValues;`);
  return lines.join(' ');
}

function factoryFor(key: string, names: string[], kinds: Kind[]): () => RowView {
  let factory = factories.get(key);
  if (factory === undefined) {
    const columns = names.map((name, c) => ({ name: JSON.stringify(name), kind: kinds[c] as Kind, c }));
    // One closure per view: the getters read closure variables, which V8 keeps as fast context slots.
    const source = `"use strict";
      let i = 0;
      let d;
      ${columns.map(({ c }) => `let v${c} = h.emptyValues, b${c} = h.emptyBuffer, f${c} = h.emptyOffsets, g${c} = null, n${c} = null, o${c} = 0, s${c} = -1, w${c};`).join('\n')}
      const row = {
        ${columns.map(({ name, kind, c }) => `get ${name}() {
          if (s${c} === i) return w${c};
          return n${c} === null || ((n${c}[(o${c} + i) >> 3] >> ((o${c} + i) & 7)) & 1) === 1 ? ${valueExpression(kind, c)} : null;
        },
        set ${name}(x) { s${c} = i; w${c} = x; },`).join('\n')}
      };
      return {
        row,
        bind(batch) { const ch = batch.data.children; i = 0; ${columns.map(({ kind, c }) => bindStatements(kind, c)).join('\n')} },
        at(j) { i = j; },
        release() { d = undefined; ${columns.map(({ kind, c }) => releaseStatements(kind, c)).join('\n')} },
      };`;
    const make = new Function('h', source) as (helpers: typeof HELPERS) => RowView;
    factory = () => make(HELPERS);
    if (factories.size >= MAX_CACHED) factories.delete(factories.keys().next().value as string);
    factories.set(key, factory);
  }
  return factory;
}

const decoder = new TextDecoder('utf-8');

/** Node's Buffer has latin1Slice (what toString('latin1') calls) without declaring it. */
interface LatinSlicer {
  latin1Slice(start: number, end: number): string;
}

const HELPERS = {
  Vector,
  emptyValues: new Float64Array(0),
  emptyWords: new Int32Array(0),
  emptyOffsets: new Int32Array(1),
  emptyBytes: new Uint8Array(0),
  emptyBuffer: Buffer.alloc(0),
  /** The validity bitmap when the column has nulls, else null (no per-row check). */
  nulls(data: { nullCount: number; nullBitmap: Uint8Array | undefined }): Uint8Array | null {
    return data.nullCount > 0 && data.nullBitmap !== undefined && data.nullBitmap.byteLength > 0 ? data.nullBitmap : null;
  },
  buffer(values: Uint8Array): Buffer {
    return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  },
  words(values: BigInt64Array): Int32Array {
    return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  },
  /**
   * UTF-8 bytes to a string exactly as Arrow decodes them (TextDecoder: invalid bytes become U+FFFD, a leading
   * byte-order mark is dropped). ASCII, the common case, is decoded without a native call per short string.
   */
  utf8(buf: Buffer, start: number, end: number): string {
    const n = end - start;
    if (n <= 16) {
      let ascii = true;
      for (let k = start; k < end; k++) {
        if ((buf[k] as number) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        switch (n) {
          case 0:
            return '';
          case 1:
            return String.fromCharCode(buf[start] as number);
          case 2:
            return String.fromCharCode(buf[start] as number, buf[start + 1] as number);
          default:
            return (buf as unknown as LatinSlicer).latin1Slice(start, end);
        }
      }
    }
    return decoder.decode(buf.subarray(start, end));
  },
  /** A 64-bit millisecond count as a number, from its two 32-bit words; the exact Arrow path beyond 2^53. */
  millis(words: Int32Array, vector: Vector, i: number): unknown {
    const high = words[2 * i + 1] as number;
    if (high >= -2097152 && high < 2097152) return high * 4294967296 + ((words[2 * i] as number) >>> 0);
    return vector.get(i) as unknown; // throws as Arrow does for a value a number cannot hold exactly
  },
  orNull(value: unknown): unknown {
    return value === undefined ? null : value;
  },
};

/** The row view's UTF-8 decoding (exported for tests: it must equal Arrow's TextDecoder byte for byte). */
export const decodeUtf8Bytes = (bytes: Uint8Array): string => HELPERS.utf8(HELPERS.buffer(bytes), 0, bytes.length);
