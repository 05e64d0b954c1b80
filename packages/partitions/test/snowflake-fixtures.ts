// A generated Snowflake table with every type readSnowflake maps, as the emulator serves it (wire text) and as
// the Arrow columns must hold it (exact integers: bigint units, epoch days, nanoseconds). Row i's values are
// simple functions of i, with NULLs, empty strings, negative and beyond-2^53 values mixed in.
import type { Table } from 'apache-arrow';
import type { WireTable } from '@loom/snowflake-emulator';

const NS = 1_000_000_000n;

function nanosOf(i: number): bigint {
  return BigInt((i * 123_457_919) % 1_000_000_000);
}

function epochSecondsOf(i: number): bigint {
  // Some before 1970 (negative epoch seconds), most around 2023.
  return i % 13 === 0 ? -BigInt(86_400 + i * 7) : 1_700_000_000n + BigInt(i * 61);
}

/** "s.fffffffff" for epoch nanoseconds `ns` as Snowflake writes it (floor seconds, positive fraction shown with sign). */
function secondsText(ns: bigint, digits: number): string {
  const negative = ns < 0n;
  const abs = negative ? -ns : ns;
  const whole = abs / NS;
  const fraction = (abs % NS).toString().padStart(9, '0').slice(0, digits);
  return `${negative ? '-' : ''}${whole}${digits > 0 ? `.${fraction}` : ''}`;
}

const isNull = (i: number, column: number) => (i + column) % 7 === 0;

export interface ExpectedRow {
  ID: bigint; BIG: bigint | null; AMOUNT: bigint | null; WIDE: bigint | null; RATIO: number | null; NAME: string | null;
  FLAG: boolean | null; DAY: number | null; AT_TIME: bigint | null; NTZ: bigint | null; LTZ: bigint | null; TZ: bigint | null;
  DOC: string | null; OBJ: string | null; ARR: string | null; BIN: Uint8Array | null;
}

export function expectedRow(i: number): ExpectedRow {
  const at = epochSecondsOf(i) * NS + nanosOf(i);
  const or = <T>(column: number, value: T): T | null => (isNull(i, column) ? null : value);
  const ratios = [Infinity, -Infinity, NaN];
  return {
    ID: BigInt(i),
    BIG: or(1, (i % 2 ? -1n : 1n) * (9_007_199_254_740_993n + BigInt(i) * 1_000_003n)),
    AMOUNT: or(2, (i % 2 ? -1n : 1n) * BigInt(Math.floor(i / 3) * 100 + (i % 100))),
    WIDE: or(3, 12345678901234567890n * 10n ** 10n + BigInt(i)),
    RATIO: or(4, i % 50 === 1 ? ratios[i % 3]! : i * 0.1 - 3.25),
    NAME: or(5, i % 11 === 0 ? '' : `naïve "${i}", 日本\n`),
    FLAG: or(6, i % 3 === 0),
    DAY: or(7, i * 3 - 1000),
    AT_TIME: or(8, BigInt((i * 37) % 86_400) * NS + nanosOf(i)),
    NTZ: or(9, at),
    LTZ: or(10, (at - (((at % 1000n) + 1000n) % 1000n)) / 1000n), // microseconds (scale 6), floored
    TZ: or(11, (at - (((at % 1_000_000n) + 1_000_000n) % 1_000_000n)) / 1_000_000n), // milliseconds (scale 3)
    DOC: or(12, JSON.stringify({ i, tags: ['a', i % 5], nested: { ok: i % 2 === 0 } })),
    OBJ: or(13, JSON.stringify({ k: i })),
    ARR: or(14, JSON.stringify([i, `x${i}`])),
    BIN: or(15, Uint8Array.from({ length: i % 6 }, (_, k) => (i * 31 + k) & 255)),
  };
}

function decimalText(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

function floatText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

/** Row i in Snowflake's JSON wire form (TIMESTAMP_TZ carries its offset index: minutes + 1440). */
function wireRow(i: number): (string | null)[] {
  const e = expectedRow(i);
  const text = <T>(value: T | null, format: (value: T) => string) => (value === null ? null : format(value));
  return [
    String(e.ID),
    text(e.BIG, String),
    text(e.AMOUNT, (units) => decimalText(units, 2)),
    text(e.WIDE, (units) => decimalText(units, 10)),
    text(e.RATIO, floatText),
    e.NAME,
    text(e.FLAG, (flag) => (flag ? '1' : '0')),
    text(e.DAY, String),
    text(e.AT_TIME, (ns) => secondsText(ns, 9)),
    text(e.NTZ, (ns) => secondsText(ns, 9)),
    text(e.LTZ, (us) => secondsText(us * 1000n, 6)),
    text(e.TZ, (ms) => `${secondsText(ms * 1_000_000n, 3)} ${1440 + ((i % 5) - 2) * 60}`),
    e.DOC, e.OBJ, e.ARR,
    text(e.BIN, hex),
  ];
}

export function allTypesTable(rowCount: number): WireTable {
  return {
    rowCount,
    row: wireRow,
    columns: [
      { name: 'ID', type: 'fixed', precision: 38, scale: 0 },
      { name: 'BIG', type: 'fixed', precision: 38, scale: 0 },
      { name: 'AMOUNT', type: 'fixed', precision: 12, scale: 2 },
      { name: 'WIDE', type: 'fixed', precision: 38, scale: 10 },
      { name: 'RATIO', type: 'real' },
      { name: 'NAME', type: 'text' },
      { name: 'FLAG', type: 'boolean' },
      { name: 'DAY', type: 'date' },
      { name: 'AT_TIME', type: 'time', scale: 9 },
      { name: 'NTZ', type: 'timestamp_ntz', scale: 9 },
      { name: 'LTZ', type: 'timestamp_ltz', scale: 6 },
      { name: 'TZ', type: 'timestamp_tz', scale: 3 },
      { name: 'DOC', type: 'variant' },
      { name: 'OBJ', type: 'object' },
      { name: 'ARR', type: 'array' },
      { name: 'BIN', type: 'binary' },
    ],
  };
}

/** Row `row` of `table` as the exact values to compare with expectedRow (raw buffers for fixed-width columns). */
export function actualRow(table: Table, row: number): ExpectedRow {
  const out: Record<string, unknown> = {};
  for (const field of table.schema.fields) {
    const vector = table.getChild(field.name)!;
    let offset = row;
    const data = vector.data.find((chunk) => {
      if (offset < chunk.length) return true;
      offset -= chunk.length;
      return false;
    })!;
    if (!data.getValid(offset)) {
      out[field.name] = null;
      continue;
    }
    switch (field.name) {
      case 'AMOUNT': case 'WIDE': {
        const words = data.values as Uint32Array;
        let value = 0n;
        for (let w = 3; w >= 0; w--) value = (value << 32n) | BigInt(words[offset * 4 + w]!);
        out[field.name] = BigInt.asIntN(128, value);
        break;
      }
      case 'ID': case 'BIG': case 'AT_TIME': case 'NTZ': case 'LTZ': case 'TZ': case 'DAY':
        out[field.name] = (data.values as BigInt64Array | Int32Array)[offset];
        break;
      case 'BIN':
        out[field.name] = Uint8Array.from(vector.get(row) as Uint8Array);
        break;
      default:
        out[field.name] = vector.get(row);
    }
  }
  return out as unknown as ExpectedRow;
}
