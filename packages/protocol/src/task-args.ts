// The encoding of a task's arguments, shared by the client (which writes it) and the worker (which reads it).
// Arguments are a template: plain data, with every dependency replaced by a hole. A hole names where it sits
// (a path of array indices and object keys) and which dependency fills it, so user data can never be mistaken
// for a reference, however it is shaped. Arrow tables in the arguments (of any apache-arrow copy) are lifted out
// the same way and travel as Arrow IPC bytes beside the template, since V8's serializer would flatten them into
// plain objects. Small JSON-exact templates are written as JSON, others with V8's serializer; the first byte
// tells them apart ('{' for JSON, 0xFF, V8's version tag, otherwise).
import { deserialize, serialize } from 'node:v8';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { asLoomTable } from './arrow-input.js';
import { LoomError } from './errors.js';
import { isSmallJsonValue } from './json-safe.js';
import { asBuffer } from './value-codec.js';

const JSON_OBJECT_START = 0x7b; // '{'

export type ArgPath = ReadonlyArray<string | number>;

export interface ArgHole {
  /** Where in the argument list the dependency's value goes: [argIndex, ...nested keys]. */
  path: ArgPath;
  /** Index into the task's dependencies. */
  dependency: number;
}

/** An Arrow table found in the arguments, where its place in the template holds null. */
export interface ArgTable {
  path: ArgPath;
  /** A table of any apache-arrow copy (isArrowTableLike). */
  table: unknown;
}

interface EncodedArgs {
  template: unknown[];
  holes: ArgHole[];
  /** Absent when there are none, so templates without tables encode as before. */
  tables?: { path: ArgPath; ipc: Uint8Array }[];
}

export function encodeTaskArgs(template: unknown[], holes: ArgHole[], taskKey: string, tables: readonly ArgTable[] = []): Uint8Array {
  const encoded: EncodedArgs = { template, holes };
  if (tables.length > 0) {
    encoded.tables = tables.map(({ path, table }) => {
      const own = asLoomTable(table, `the table at argument ${path.join('.')} of task '${taskKey}'`);
      if (own === undefined) throw new LoomError('SERIALIZATION_FAILED', `argument ${path.join('.')} of task '${taskKey}' is not an Arrow table`, { taskKey });
      return { path, ipc: tableToIPC(own, 'stream') };
    });
  }
  try {
    if (encoded.tables === undefined && isSmallJsonValue(template)) return Buffer.from(JSON.stringify(encoded));
    return serialize(encoded);
  } catch (error) {
    throw new LoomError(
      'SERIALIZATION_FAILED',
      `cannot send the arguments of task '${taskKey}': ${(error as Error).message}. ` +
        `Arguments must be plain data or Loom delayed values/futures; pass functions by giving them to delayed() instead.`,
      { taskKey },
    );
  }
}

/** Decodes the template and fills each hole with the value of its dependency. */
export function decodeTaskArgs(bytes: Uint8Array, dependencyValues: readonly unknown[]): unknown[] {
  const { template, holes, tables } = (
    bytes[0] === JSON_OBJECT_START ? JSON.parse(asBuffer(bytes).toString('utf8')) : deserialize(bytes)
  ) as EncodedArgs;
  for (const hole of holes) {
    const value = dependencyValues[hole.dependency];
    setAtPath(template, hole.path, value);
  }
  for (const { path, ipc } of tables ?? []) setAtPath(template, path, tableFromIPC(ipc));
  return template;
}

function setAtPath(root: unknown[], path: ArgPath, value: unknown): void {
  let container: Record<string | number, unknown> = root as unknown as Record<number, unknown>;
  for (let i = 0; i < path.length - 1; i++) {
    container = container[path[i] as string | number] as Record<string | number, unknown>;
  }
  container[path[path.length - 1] as string | number] = value;
}
