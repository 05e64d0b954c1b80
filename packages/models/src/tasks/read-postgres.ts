// A batch's database sources: one query per (database, table) selecting the time column and the batch's value
// columns over the union of the ranges its slices need, ordered by time. A connection is opened when a batch
// first needs its database and closed after the batch's last table there, so a batch spanning hundreds of
// databases holds only a few connections at once. A missing column costs one catalog lookup and a second query
// without it; any other failure fails the slices of that table only.
import pg from 'pg';
import type { BatchSourceSpec } from '../train-many/batch-wire.js';
import { coarsened, unionOfRanges, type Problem, type SourceRead } from './source-data.js';

/** PostgreSQL's numeric type oids: int8, int2, int4, float4, float8, numeric. */
const NUMERIC_TYPES = new Set([20, 21, 23, 700, 701, 1700]);
/** Disjoint ranges one query names; more are merged across their smallest gaps (reading a little more). */
const MAX_RANGES_PER_QUERY = 32;

type PostgresSource = Extract<BatchSourceSpec['source'], { kind: 'postgres' }>;

/** The connections of one batch, each opened on first use and closed after its last source. */
export class BatchConnections {
  readonly #open = new Map<string, Promise<pg.Client>>();
  readonly #lastUse = new Map<string, number>();
  readonly #queued = new Map<pg.Client, Promise<void>>();
  queries = 0;

  /** `connections[s]` is the connection string of source s of the batch (undefined for file sources). */
  constructor(connections: ReadonlyArray<string | undefined>) {
    connections.forEach((connection, s) => {
      if (connection !== undefined) this.#lastUse.set(connection, s);
    });
  }

  client(connection: string): Promise<pg.Client> {
    let client = this.#open.get(connection);
    if (client === undefined) {
      client = connect(connection);
      // A refused connection is remembered: every table of that database fails with the same reason.
      client.catch(() => undefined);
      this.#open.set(connection, client);
    }
    return client;
  }

  /** Source `s` has been read: close its connection if no later source of the batch uses it. */
  async done(s: number, connection: string): Promise<void> {
    if (this.#lastUse.get(connection) !== s) return;
    await this.#close(connection);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#open.keys()].map((connection) => this.#close(connection)));
  }

  async #close(connection: string): Promise<void> {
    const client = this.#open.get(connection);
    this.#open.delete(connection);
    await client?.then((c) => c.end()).catch(() => undefined);
  }

  /**
   * Runs a query, after any other query of this batch on the same connection (reads run ahead of fitting, and
   * a connection takes one query at a time). `numbers` parses every value as a number, not by its type's
   * default parser: one Number() per value, no Date or string objects.
   */
  query(client: pg.Client, config: pg.QueryConfig, numbers = true): Promise<pg.QueryArrayResult> {
    this.queries++;
    const types = numbers ? { types: { getTypeParser: () => Number } } : {};
    const previous = this.#queued.get(client) ?? Promise.resolve();
    const result = previous.then(() => client.query({ ...config, rowMode: 'array', ...types } as pg.QueryArrayConfig));
    this.#queued.set(client, result.then(() => undefined, () => undefined));
    return result;
  }
}

async function connect(connectionString: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString, application_name: 'loom-train-many' });
  // A connection the server drops between queries must not crash the task thread; the next query fails instead.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export async function readTable(connections: BatchConnections, spec: BatchSourceSpec, timeColumn: string, ranges: Float64Array): Promise<SourceRead> {
  const source = spec.source as PostgresSource;
  const where = `table ${source.table} of database ${source.database}`;
  let client: pg.Client;
  try {
    client = await connections.client(source.connection);
  } catch (error) {
    return { code: 'SOURCE_FAILED', message: `cannot connect to database ${source.database}: ${messageOf(error)}` };
  }
  const union = coarsened(unionOfRanges(ranges, spec.first, spec.count), MAX_RANGES_PER_QUERY);
  const problems = new Map<string, Problem>();
  const wanted = (spec.columns.filter((column) => column !== null) as string[]);
  let present = wanted;
  for (let attempt = 0; ; attempt++) {
    if (union.length === 0 || present.length === 0) return sourceData(spec.columns, problems, undefined);
    try {
      const result = await connections.query(client, selectRows(client, source.table, timeColumn, spec.rangeKind, present, union));
      return toSourceData(result, spec, timeColumn, present, problems, where);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== '42703' || attempt > 0) return failure(error, spec, timeColumn, where);
      // undefined_column: find which are missing, and read the others.
      const existing = await tableColumns(connections, client, source.table).catch(() => undefined);
      if (existing === undefined) return failure(error, spec, timeColumn, where);
      if (!existing.has(timeColumn)) return { code: 'BAD_TIME_COLUMN', message: `${where} has no time column ${JSON.stringify(timeColumn)}` };
      for (const column of wanted) {
        if (!existing.has(column)) problems.set(column, { code: 'MISSING_COLUMN', message: `${where} has no column ${JSON.stringify(column)}` });
      }
      present = wanted.filter((column) => existing.has(column));
    }
  }
}

function selectRows(client: pg.Client, table: string, timeColumn: string, kind: BatchSourceSpec['rangeKind'], columns: string[], union: Array<[number, number]>): pg.QueryConfig {
  const time = client.escapeIdentifier(timeColumn);
  // extract(epoch ...) reads a timestamptz as an instant and a timestamp without zone as UTC, whatever the
  // session's time zone; bounds go as ISO text in UTC, which PostgreSQL reads in the column's own type.
  const timeValue = kind === 'timestamp' ? `extract(epoch from ${time}) * 1000` : time;
  const bound = (value: number): string => (kind === 'timestamp' ? new Date(value).toISOString() : String(value));
  const conditions = union.map((_, k) => `(${time} >= $${2 * k + 1} AND ${time} < $${2 * k + 2})`);
  return {
    text: `SELECT ${timeValue}, ${columns.map((column) => client.escapeIdentifier(column)).join(', ')} FROM ${qualified(client, table)} WHERE ${conditions.join(' OR ')} ORDER BY ${time}`,
    values: union.flatMap(([from, to]) => [bound(from), bound(to)]),
  };
}

function toSourceData(result: pg.QueryArrayResult, spec: BatchSourceSpec, timeColumn: string, present: string[], problems: Map<string, Problem>, where: string): SourceRead {
  const [timeField, ...valueFields] = result.fields;
  if (timeField === undefined || !NUMERIC_TYPES.has(timeField.dataTypeID)) {
    return { code: 'BAD_TIME_COLUMN', message: `the time column ${JSON.stringify(timeColumn)} of ${where} is not numeric, but the split's bounds are numbers` };
  }
  const rows = result.rows;
  const n = rows.length;
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) times[i] = (rows[i]![0] as number | null) ?? NaN;
  const values = new Map<string, Float64Array>();
  present.forEach((column, c) => {
    if (!NUMERIC_TYPES.has(valueFields[c]?.dataTypeID ?? -1)) {
      problems.set(column, { code: 'NOT_NUMERIC', message: `column ${JSON.stringify(column)} of ${where} is not numeric` });
      return;
    }
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = (rows[i]![c + 1] as number | null) ?? NaN;
    values.set(column, out);
  });
  return sourceData(spec.columns, problems, { times, values });
}

function sourceData(columns: (string | null)[], problems: Map<string, Problem>, read: { times: Float64Array; values: Map<string, Float64Array> } | undefined): SourceRead {
  const times = read?.times ?? new Float64Array(0);
  return {
    times,
    rows: times.length,
    columns: columns.map((column) => {
      if (column === null) return { code: 'MISSING_COLUMN', message: 'a database slice must name its column' };
      return problems.get(column) ?? read?.values.get(column) ?? new Float64Array(0);
    }),
  };
}

/** The columns of `table` (schema-qualified or on the search path), from the catalog. */
async function tableColumns(connections: BatchConnections, client: pg.Client, table: string): Promise<Set<string>> {
  const result = await connections.query(client, {
    text: 'SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped',
    values: [qualified(client, table)],
  }, false);
  return new Set(result.rows.map((row) => String(row[0])));
}

/** `schema.table` or `table`, each part quoted. */
function qualified(client: pg.Client, table: string): string {
  const dot = table.indexOf('.');
  return dot < 0 ? client.escapeIdentifier(table) : `${client.escapeIdentifier(table.slice(0, dot))}.${client.escapeIdentifier(table.slice(dot + 1))}`;
}

/** A failed query as the reason every slice of the table fails. */
function failure(error: unknown, spec: BatchSourceSpec, timeColumn: string, where: string): Problem {
  const code = (error as { code?: string }).code;
  const message = messageOf(error);
  switch (code) {
    case '42P01':
      return { code: 'SOURCE_FAILED', message: `${where} does not exist` };
    case '42703':
      return { code: 'BAD_TIME_COLUMN', message: `${where}: ${message}` };
    case '42883':
    case '22007':
    case '22008':
    case '22P02':
      // extract() on a number, or bounds the time column's type cannot take.
      return {
        code: 'BAD_TIME_COLUMN',
        message: `the split's bounds are ${spec.rangeKind === 'timestamp' ? 'timestamps' : 'numbers'}, which the time column ${JSON.stringify(timeColumn)} of ${where} does not hold: ${message}`,
      };
    default:
      return { code: 'SOURCE_FAILED', message: `reading ${where} failed: ${message}` };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
