// Checking that a split's sources exist before any work starts: each database name resolves to a connection
// string, each file is a readable regular file. Each distinct name is checked once; a problem is reported on
// every row that names it, so the user sees each row that will not train.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { mapBounded } from '../map-bounded.js';
import type { SplitProblem } from './split-error.js';

/** Database name to PostgreSQL connection string; unknown is a missing key, `undefined`, or a throw. */
export type Connections = ReadonlyMap<string, string> | Readonly<Record<string, string>> | ((database: string) => string | undefined);

/** Files stat'ed at a time: enough to hide latency on network disks, few enough not to exhaust descriptors. */
const FILE_CHECKS_AT_ONCE = 16;

/** The rows that name one database or one file, whatever else is wrong with them: that is checked all the same. */
export type SourcedRows = { rows: number[]; ids: Array<string | undefined> } & ({ database: string; file?: undefined } | { file: string; database?: undefined });

export interface ResolvedSources {
  /** Connection string by database name, for the databases that resolved. */
  connections: Map<string, string>;
  problems: SplitProblem[];
}

/** Resolves each database (when `connections` is given) and checks each file, reporting on every row naming it. */
export async function resolveSources(sources: readonly SourcedRows[], connections: Connections | undefined): Promise<ResolvedSources> {
  const databases = new Map<string, string | Error>();
  for (const { database } of sources) {
    if (database !== undefined && connections !== undefined && !databases.has(database)) databases.set(database, connectionFor(connections, database));
  }
  const files = [...new Set(sources.flatMap(({ file }) => (file === undefined ? [] : [file])))];
  const checked = await mapBounded(files, FILE_CHECKS_AT_ONCE, async (file) => [file, await unreadable(file)] as const);
  const unreadableFiles = new Map(checked.filter((entry): entry is readonly [string, string] => entry[1] !== undefined));

  const problems: SplitProblem[] = [];
  for (const { rows, ids, file, database } of sources) {
    const connection = database === undefined ? undefined : databases.get(database);
    const why = file !== undefined ? unreadableFiles.get(file) : connection instanceof Error ? connection.message : undefined;
    if (why === undefined) continue;
    const column = file !== undefined ? 'file' : 'database';
    rows.forEach((row, k) => {
      const id = ids[k];
      problems.push(id === undefined ? { row, column, message: why } : { row, id, column, message: why });
    });
  }
  const resolved = new Map<string, string>();
  for (const [database, connection] of databases) if (typeof connection === 'string') resolved.set(database, connection);
  return { connections: resolved, problems };
}

/** The connection string `connections` gives `database`, or why it gives none. */
export function connectionFor(connections: Connections, database: string): string | Error {
  let connection: string | undefined;
  try {
    if (typeof connections === 'function') connection = connections(database);
    else if (connections instanceof Map) connection = connections.get(database);
    else connection = Object.hasOwn(connections, database) ? (connections as Readonly<Record<string, string>>)[database] : undefined;
  } catch (error) {
    return new Error(`unknown database ${JSON.stringify(database)}: connections threw: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof connection !== 'string' || connection === '') return new Error(`unknown database ${JSON.stringify(database)}: connections has no connection string for it`);
  return connection;
}

/** Why a file cannot be read, or undefined when it can. */
async function unreadable(file: string): Promise<string | undefined> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return `${file} is not a regular file`;
    await access(file, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${file} does not exist`;
    if (code === 'EACCES') return `${file} is not readable`;
    return `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
