// The parameters of the built-in retrain job (and of drift-check, which passes them on): JSON only, so they
// can be typed on a command line or stored in a schedule. Checked here, so a bad one fails the job at once
// with BAD_PARAMS instead of after a retry's backoff.
import type { FamilySpec } from '@loom/models';

export interface RetrainParams {
  /** The model store directory (shared by the runner's machine and the workers, like trainMany's). */
  store: string;
  group: string;
  /** The split CSV's path. */
  split: string;
  /** A family spec: { family: 'ar', params: { p: 8 } }, or { module, export, params } for one of your own. */
  family: FamilySpec;
  /** Retrain only these ids; the group's other models are carried forward. */
  only?: string[];
  /** Database name -> PostgreSQL connection string, or one URL (with {database} in it, or for every database). */
  connections?: Record<string, string> | string;
  timeColumn?: string;
  batchSeconds?: number;
}

type Problem = (why: string) => never;

export function checkRetrainParams(value: unknown, job = 'retrain'): RetrainParams {
  const bad: Problem = (why) => {
    throw new Error(`${job} params: ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('expected an object { store, group, split, family, only?, connections?, timeColumn?, batchSeconds? }');
  const params = value as Record<string, unknown>;
  for (const name of ['store', 'group', 'split'] as const) {
    if (typeof params[name] !== 'string' || params[name] === '') bad(`${name} must be non-empty text`);
  }
  const family = params['family'];
  if (typeof family !== 'object' || family === null || (typeof (family as { family?: unknown }).family !== 'string' && typeof (family as { module?: unknown }).module !== 'string')) {
    bad(`family must be a family spec such as {"family":"ar","params":{"p":8}} or {"module":"./f.js","export":"f","params":{}}, got ${JSON.stringify(family)}`);
  }
  const only = params['only'];
  if (only !== undefined && !(Array.isArray(only) && only.length > 0 && only.every((id) => typeof id === 'string'))) bad('only must be a non-empty list of ids');
  const connections = params['connections'];
  if (connections !== undefined && typeof connections !== 'string' && !(typeof connections === 'object' && connections !== null && Object.values(connections).every((url) => typeof url === 'string'))) {
    bad('connections must be a URL or an object of database name to connection string');
  }
  if (params['timeColumn'] !== undefined && (typeof params['timeColumn'] !== 'string' || params['timeColumn'] === '')) bad('timeColumn must be non-empty text');
  const batchSeconds = params['batchSeconds'];
  if (batchSeconds !== undefined && !(typeof batchSeconds === 'number' && Number.isFinite(batchSeconds) && batchSeconds > 0)) bad('batchSeconds must be a positive number');
  return params as unknown as RetrainParams;
}

/** `connections` as trainMany takes it: a URL template or a single URL becomes a function of the database name. */
export function connectionsOf(connections: RetrainParams['connections']): Record<string, string> | ((database: string) => string) | undefined {
  if (typeof connections !== 'string') return connections;
  return connections.includes('{database}') ? (database) => connections.replaceAll('{database}', encodeURIComponent(database)) : () => connections;
}
