// Tables of another apache-arrow copy (the CommonJS build loaded through require, another version in the user's
// project) rebuilt as tables of Loom's own copy over the same buffers, without the other copy's module. Its
// classes differ from Loom's, so instanceof checks, visitors and the IPC writer misread them; what every copy
// shares is the Arrow format: type ids and units are the format's own numbers, and a Data node keeps the same
// buffers the same way in every version since apache-arrow 8 (checked with 8, 9, 14, 17 and 21). Each rebuilt
// node's buffers are checked against its length, so a layout this code does not know fails here, naming the
// column, instead of reading garbage.
import {
  Binary, BinaryView, Bool, Data, DataType, Date_, Decimal, Dictionary, Duration, Field, FixedSizeBinary, FixedSizeList, Float,
  Int, Interval, LargeBinary, LargeList, LargeUtf8, List, makeData, Map_, Null, RecordBatch, Schema, Struct, Table, Time,
  Timestamp, Type, Union, UnionMode, Utf8, Utf8View, Vector,
} from 'apache-arrow';
import { LoomError } from './errors.js';

type Foreign = Record<string, unknown>;

/** Where a Data node sits, for error messages: its record batch and the field names down to it. */
interface DataPath {
  readonly batch: number;
  readonly path: readonly string[];
}

/** True when `table` and everything in it (schema types, batches, Data nodes, dictionaries) are Loom's own classes. */
export function isOwnTable(table: unknown): table is Table {
  if (!(table instanceof Object) || !Table.prototype.isPrototypeOf(table)) return false;
  const { schema, batches } = table as Table;
  return Schema.prototype.isPrototypeOf(schema) && schema.fields.every((field) => isOwnType(field.type))
    && batches.every((batch) => RecordBatch.prototype.isPrototypeOf(batch) && isOwnData(batch.data));
}

function isOwnType(type: DataType): boolean {
  if (!DataType.prototype.isPrototypeOf(type)) return false;
  if (type instanceof Dictionary) return isOwnType(type.dictionary) && isOwnType(type.indices);
  const children = type.children as Field[] | null;
  return children === null || children.every((child) => Field.prototype.isPrototypeOf(child) && isOwnType(child.type));
}

function isOwnData(data: Data): boolean {
  if (!Data.prototype.isPrototypeOf(data) || !DataType.prototype.isPrototypeOf(data.type)) return false;
  const dictionary = data.dictionary as Vector | undefined;
  if (dictionary !== undefined && !(Vector.prototype.isPrototypeOf(dictionary) && dictionary.data.every(isOwnData))) return false;
  return data.children.every(isOwnData);
}

/** `table` (an Arrow table of any copy, as duck-typing found it) as a table of Loom's copy, sharing its buffers. */
export function rebuildTable(table: object, what: string): Table {
  return new Rebuild(what).table(table as Foreign);
}

class Rebuild {
  /** Dictionaries shared by several batches stay shared (the IPC writer then sends each once). */
  private readonly dictionaries = new Map<object, Vector>();

  constructor(private readonly what: string) {}

  table(table: Foreign): Table {
    const schema = this.schema(object(table['schema'], 'its schema', this));
    const rowType = new Struct(schema.fields);
    const batches = list(table['batches'], 'its record batches', this).map((batch, i) =>
      new RecordBatch(schema, this.data(object(batch, `record batch ${i}`, this)['data'], rowType, { batch: i, path: [] }) as Data<Struct>));
    return new Table(schema, batches);
  }

  private schema(schema: Foreign): Schema {
    const fields = list(schema['fields'], 'its schema fields', this).map((field, i) => this.field(field, undefined, i));
    return new Schema(fields, metadata(schema['metadata']));
  }

  /** A field of the schema (no parent) or a child field of the type at `parent`. */
  private field(value: unknown, parent: string | undefined, index: number): Field {
    const field = object(value, parent === undefined ? `column ${index}` : `${parent} child ${index}`, this);
    const name = field['name'];
    if (typeof name !== 'string') throw this.unreadable(`${parent === undefined ? `column ${index}` : `${parent} child ${index}`} has no name`);
    const where = parent === undefined ? `column '${name}'` : `${parent}.${name}`;
    return new Field(name, this.type(field['type'], where), field['nullable'] === true, metadata(field['metadata']));
  }

  private children(type: Foreign, where: string): Field[] {
    return list(type['children'], `${where}'s child fields`, this).map((child, i) => this.field(child, where, i));
  }

  private child(type: Foreign, where: string): Field {
    const [child, ...rest] = this.children(type, where);
    if (child === undefined || rest.length > 0) throw this.unreadable(`${where} should have one child field`);
    return child;
  }

  /** Loom's DataType for another copy's, from its type id and parameters (the format's numbers in every copy). */
  private type(value: unknown, where: string): DataType {
    const type = object(value, `${where}'s type`, this);
    const id = type['typeId'];
    const param = (name: string, valid: (found: number) => boolean): number => {
      const found = type[name];
      if (typeof found !== 'number' || !Number.isInteger(found) || !valid(found)) throw this.unreadable(`${where}: ${String(value)} has ${name} ${String(found)}`);
      return found;
    };
    const oneOf = (...allowed: number[]) => (found: number) => allowed.includes(found);
    const within = (low: number, high: number) => (found: number) => found >= low && found <= high;
    const unit = (high: number) => param('unit', within(0, high)) as never;
    switch (id) {
      case Type.Null: return new Null();
      case Type.Bool: return new Bool();
      case Type.Int: return new Int((type['isSigned'] === true) as never, param('bitWidth', oneOf(8, 16, 32, 64)) as never);
      case Type.Float: return new Float(param('precision', within(0, 2)));
      case Type.Decimal: return new Decimal(param('scale', within(-128, 127)), param('precision', within(1, 76)), param('bitWidth', oneOf(32, 64, 128, 256)));
      case Type.Utf8: return new Utf8();
      case Type.LargeUtf8: return new LargeUtf8();
      case Type.Utf8View: return new Utf8View();
      case Type.Binary: return new Binary();
      case Type.LargeBinary: return new LargeBinary();
      case Type.BinaryView: return new BinaryView();
      case Type.FixedSizeBinary: return new FixedSizeBinary(param('byteWidth', within(1, 2 ** 31 - 1)));
      case Type.Date: return new Date_(unit(1));
      case Type.Time: return new Time(unit(3), param('bitWidth', oneOf(32, 64)) as never);
      case Type.Timestamp: return new Timestamp(unit(3), typeof type['timezone'] === 'string' ? type['timezone'] : null);
      case Type.Interval: return new Interval(unit(2));
      case Type.Duration: return new Duration(unit(3));
      case Type.List: return new List(this.child(type, where));
      case Type.LargeList: return new LargeList(this.child(type, where));
      case Type.FixedSizeList: return new FixedSizeList(param('listSize', within(0, 2 ** 31 - 1)), this.child(type, where));
      case Type.Struct: return new Struct(this.children(type, where));
      case Type.Map: return new Map_(this.child(type, where) as never, type['keysSorted'] === true);
      case Type.Union: {
        const typeIds = type['typeIds'];
        if (!ArrayBuffer.isView(typeIds) && !Array.isArray(typeIds)) throw this.unreadable(`${where}: union without type ids`);
        return new Union(param('mode', oneOf(UnionMode.Sparse, UnionMode.Dense)), Int32Array.from(typeIds as ArrayLike<number>), this.children(type, where));
      }
      case Type.Dictionary: {
        const indices = this.type(type['indices'], `${where}'s indices`);
        if (!(indices instanceof Int) || indices.bitWidth === 64) throw this.unreadable(`${where}: dictionary indices of type ${String(indices)}`);
        const dictionaryId = type['id'];
        return new Dictionary(this.type(type['dictionary'], `${where}'s dictionary`), indices as never,
          typeof dictionaryId === 'number' ? dictionaryId : null, type['isOrdered'] === true);
      }
      default:
        throw this.unreadable(`${where} has type ${String(value)} (Arrow type id ${String(id)}), which Loom's apache-arrow does not know`);
    }
  }

  /** Loom's Data node over another copy's buffers (a typed array of the other class is viewed, not copied). */
  private data(value: unknown, type: DataType, at: DataPath): Data {
    const where = at.path.length === 0 ? `record batch ${at.batch}` : `column '${at.path.join('.')}' (record batch ${at.batch})`;
    const data = object(value, `${where}'s data`, this);
    const foreignType = object(data['type'], `${where}'s data type`, this);
    if (foreignType['typeId'] !== type.typeId) {
      throw this.unreadable(`${where} holds data of Arrow type id ${String(foreignType['typeId'])} where its schema says ${String(type)}`);
    }
    const fields = type instanceof Dictionary ? [] : ((type.children as Field[] | null) ?? []);
    const foreignChildren = list(data['children'], `${where}'s child data`, this);
    if (foreignChildren.length !== fields.length) {
      throw this.unreadable(`${where} has ${foreignChildren.length} child arrays where ${String(type)} has ${fields.length}`);
    }
    const children = foreignChildren.map((child, i) => {
      const field = fields[i] as Field;
      return this.data(child, field.type, { batch: at.batch, path: [...at.path, field.name] });
    });
    const values = this.buffer(data, 'values', where);
    const variadic = data['variadicBuffers'] ?? [];
    const made = makeData({
      type,
      offset: count(data['offset'], 'offset', where, this),
      length: count(data['length'], 'length', where, this),
      nullCount: nullCount(data['nullCount']),
      nullBitmap: this.buffer(data, 'nullBitmap', where),
      valueOffsets: this.buffer(data, 'valueOffsets', where),
      typeIds: this.buffer(data, 'typeIds', where),
      data: values,
      views: values,
      variadicBuffers: list(variadic, `${where}'s variadic buffers`, this).map((_, i) => this.buffer(variadic as Foreign, String(i), where)),
      children,
      child: children[0],
      dictionary: type instanceof Dictionary ? this.dictionary(data['dictionary'], type.dictionary, at) : undefined,
    } as never) as Data;
    const problem = layoutProblem(made);
    if (problem !== undefined) throw this.unreadable(`${where} (${String(type)}): ${problem}`);
    return made;
  }

  private dictionary(value: unknown, type: DataType, at: DataPath): Vector {
    const vector = object(value, `column '${at.path.join('.')}' (record batch ${at.batch})'s dictionary`, this);
    let rebuilt = this.dictionaries.get(vector);
    if (rebuilt === undefined) {
      const chunks = list(vector['data'], `column '${at.path.join('.')}'s dictionary chunks`, this);
      rebuilt = new Vector(chunks.map((chunk) => this.data(chunk, type, { batch: at.batch, path: [...at.path, '<dictionary>'] })));
      this.dictionaries.set(vector, rebuilt);
    }
    return rebuilt;
  }

  private buffer(holder: Foreign, name: string, where: string): ArrayBufferView | undefined {
    const buffer = holder[name];
    if (buffer === undefined || buffer === null) return undefined;
    if (!ArrayBuffer.isView(buffer)) throw this.unreadable(`${where}'s ${name} buffer is not a typed array`);
    return buffer;
  }

  unreadable(reason: string): LoomError {
    return new LoomError(
      'SERIALIZATION_FAILED',
      `cannot read ${this.what}, an Arrow table of another apache-arrow copy or version: ${reason}. ` +
        `Pass it as Arrow IPC bytes instead (tableToIPC(table) with that copy).`,
    );
  }
}

/** What is wrong with a rebuilt node's buffers for its length and offset, if anything (checks only O(1) entries). */
function layoutProblem(data: Data): string | undefined {
  const { offset, length, stride, typeId } = data;
  const end = offset + length;
  if (data.nullCount > 0 && data.nullBitmap.length * 8 < end) return `its validity bitmap covers ${data.nullBitmap.length * 8} rows, not ${end}`;
  const lastOffset = (): number => Number(data.valueOffsets[length] ?? Number.NaN);
  const needOffsets = (): string | undefined =>
    length > 0 && !(data.valueOffsets.length > length && lastOffset() >= 0) ? `${data.valueOffsets.length} value offsets for ${length} rows` : undefined;
  switch (typeId) {
    case Type.Null:
      return undefined;
    case Type.Bool:
      return data.values.length * 8 < end ? `${data.values.length} bytes of values for ${end} bits` : undefined;
    case Type.Utf8: case Type.LargeUtf8: case Type.Binary: case Type.LargeBinary:
      return needOffsets() ?? (length > 0 && data.values.length < lastOffset() ? `${data.values.length} bytes of values, offsets reach ${lastOffset()}` : undefined);
    case Type.List: case Type.LargeList: case Type.Map: {
      const child = data.children[0] as Data;
      return needOffsets() ?? (length > 0 && child.length < lastOffset() ? `a child of ${child.length} values, offsets reach ${lastOffset()}` : undefined);
    }
    case Type.FixedSizeList: {
      const child = data.children[0] as Data;
      return child.length < length * stride ? `a child of ${child.length} values for ${length} lists of ${stride}` : undefined;
    }
    case Type.Struct: {
      const short = data.children.find((child) => child.length < length);
      return short === undefined ? undefined : `a child of ${short.length} rows for ${length}`;
    }
    case Type.Union:
      if (data.typeIds.length < length) return `${data.typeIds.length} type ids for ${length} rows`;
      return (data.type as Union).mode === UnionMode.Dense && data.valueOffsets.length < length ? `${data.valueOffsets.length} value offsets for ${length} rows` : undefined;
    default:
      // Fixed-width values: ints, floats, temporal types, decimals, fixed-size binary, binary views (16 bytes a row)
      // and dictionary indices.
      return data.values.length < stride * length ? `${data.values.length} values for ${length} rows of ${stride}` : undefined;
  }
}

function object(value: unknown, what: string, rebuild: Rebuild): Foreign {
  if (typeof value !== 'object' || value === null) throw rebuild.unreadable(`${what} is ${value === null ? 'null' : typeof value}`);
  return value as Foreign;
}

function list(value: unknown, what: string, rebuild: Rebuild): unknown[] {
  if (!Array.isArray(value)) throw rebuild.unreadable(`${what} are not an array`);
  return value;
}

function count(value: unknown, name: string, where: string, rebuild: Rebuild): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw rebuild.unreadable(`${where} has ${name} ${String(value)}`);
  return value as number;
}

/** A known null count, or -1: Loom's copy counts the validity bitmap itself when asked. */
function nullCount(value: unknown): number {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : -1;
}

function metadata(value: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (value instanceof Map) for (const [key, item] of value) out.set(String(key), String(item));
  return out;
}
