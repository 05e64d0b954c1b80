// The emulator's tables and the SQL it understands. Tables hold values in Snowflake's JSON wire form (NUMBER as
// decimal text, DATE as days since the epoch, TIMESTAMP as "seconds.fraction", TIMESTAMP_TZ with its offset
// index, BINARY as hex, VARIANT as JSON text), so the driver decodes them exactly as it would a real result.

/** One column of a result's row type, as Snowflake sends it in `data.rowtype`. */
export interface RowTypeColumn {
  name: string;
  /** fixed, real, text, boolean, date, time, timestamp_ntz, timestamp_ltz, timestamp_tz, variant, object, array, binary */
  type: string;
  precision?: number | null;
  scale?: number | null;
  nullable?: boolean;
}

export type WireValue = string | null;

export interface WireTable {
  columns: RowTypeColumn[];
  /** Rows by index: a function, so a million-row table costs nothing until it is read. */
  rowCount: number;
  row: (index: number) => WireValue[];
}

export class SqlError extends Error {
  constructor(readonly code: string, readonly sqlState: string, message: string) {
    super(message);
  }
}

/** What a statement does: a result to compute (after `runMs`), or a session parameter to set. */
export type Plan =
  | { kind: 'select'; table: WireTable; runMs: number }
  | { kind: 'set'; name: string; value: string };

/**
 * Parses the supported subset: `SELECT * | col, ... FROM table [WHERE col = 'text' | col <> 'text'] [LIMIT n]`,
 * `SELECT SYSTEM$WAIT(seconds)` (runs that long unless aborted) and `ALTER SESSION SET name = 'value'`.
 */
export function planStatement(sqlText: string, tables: ReadonlyMap<string, WireTable>, defaultRunMs: number): Plan {
  const sql = sqlText.trim().replace(/;+\s*$/, '');
  const set = /^ALTER\s+SESSION\s+SET\s+(\w+)\s*=\s*'([^']*)'$/i.exec(sql);
  if (set) return { kind: 'set', name: set[1]!.toUpperCase(), value: set[2]! };
  const wait = /^SELECT\s+SYSTEM\$WAIT\(\s*(\d+(?:\.\d+)?)\s*\)$/i.exec(sql);
  if (wait) {
    const table: WireTable = { columns: [{ name: 'SYSTEM$WAIT', type: 'text' }], rowCount: 1, row: () => ['waited'] };
    return { kind: 'select', table, runMs: Number(wait[1]) * 1000 };
  }
  const select = /^SELECT\s+(.+?)\s+FROM\s+([\w$.]+)(?:\s+WHERE\s+(\w+)\s*(=|<>|!=)\s*'((?:[^']|'')*)')?(?:\s+LIMIT\s+(\d+))?$/is.exec(sql);
  if (!select) throw new SqlError('001003', '42000', `SQL compilation error:\nsyntax error line 1 at position 0 unexpected '${sql.split(/\s/)[0] ?? ''}'.`);
  const tableName = select[2]!.split('.').pop()!.toUpperCase();
  const source = tables.get(tableName);
  if (!source) throw new SqlError('002003', '42S02', `SQL compilation error:\nObject '${tableName}' does not exist or not authorized.`);
  const names = source.columns.map((column) => column.name.toUpperCase());
  const columnIndex = (name: string) => {
    const index = names.indexOf(name.toUpperCase());
    if (index < 0) throw new SqlError('000904', '42000', `SQL compilation error: error line 1 at position 7\ninvalid identifier '${name.toUpperCase()}'`);
    return index;
  };
  const picked = select[1]!.trim() === '*' ? names.map((_, i) => i) : select[1]!.split(',').map((name) => columnIndex(name.trim()));
  let rows = Array.from({ length: source.rowCount }, (_, i) => i);
  if (select[3] !== undefined) {
    const column = columnIndex(select[3]);
    const literal = select[5]!.replaceAll("''", "'");
    const equal = select[4] === '=';
    rows = rows.filter((i) => (source.row(i)[column] === literal) === equal);
  }
  if (select[6] !== undefined) rows = rows.slice(0, Number(select[6]));
  const table: WireTable = {
    columns: picked.map((i) => source.columns[i]!),
    rowCount: rows.length,
    row: (index) => {
      const values = source.row(rows[index]!);
      return picked.map((i) => values[i]!);
    },
  };
  return { kind: 'select', table, runMs: defaultRunMs };
}
