// The dashboard's Jobs and Models sections: where their data is (`--jobs-redis`, `--model-store` or the
// environment) and the modules that draw them, imported by name only when one is asked for, so a scheduler
// without them never loads BullMQ or the store's code. They are not dependencies of this package: @loom/jobs
// and @loom/models depend on the client, which depends on the scheduler (LocalCluster starts it), so they are
// found beside it (the `loom` command and the image install both); the contract both sides are checked
// against is @loom/dashboard's SectionModules.
import { DashboardError, type DashboardExtension, type SectionModule, type SectionModules } from '@loom/dashboard';

/** A Redis URL with a password belongs here rather than on the command line, which any local user can read. */
export const JOBS_REDIS_ENV = 'LOOM_JOBS_REDIS';
export const JOBS_QUEUE_ENV = 'LOOM_JOBS_QUEUE';
/** The variable `loom models`, `loom serve` and the jobs runner read too. */
export const MODEL_STORE_ENV = 'LOOM_MODEL_STORE';

export interface SectionFlags {
  'jobs-redis'?: string | undefined;
  'jobs-queue'?: string | undefined;
  'model-store'?: string | undefined;
}

export type SectionSettings = Partial<{ [S in keyof SectionModules]: SectionModules[S] }>;

/** Which sections to show: a flag wins over its variable; an empty value means none. */
export function sectionSettings(flags: SectionFlags, env: NodeJS.ProcessEnv = process.env): SectionSettings {
  const redisUrl = flags['jobs-redis'] ?? env[JOBS_REDIS_ENV];
  const queue = flags['jobs-queue'] ?? env[JOBS_QUEUE_ENV];
  const storeDir = flags['model-store'] ?? env[MODEL_STORE_ENV];
  return {
    ...(redisUrl ? { '@loom/jobs/dashboard': { redisUrl, ...(queue ? { queue } : {}) } } : {}),
    ...(storeDir ? { '@loom/models/dashboard': { storeDir } } : {}),
  };
}

/** The sections the settings ask for, in page order (Jobs, then Models). */
export async function loadSections(settings: SectionSettings): Promise<DashboardExtension[]> {
  const sections: DashboardExtension[] = [];
  const jobs = settings['@loom/jobs/dashboard'];
  if (jobs !== undefined) sections.push(await loadSection('@loom/jobs/dashboard', jobs));
  const models = settings['@loom/models/dashboard'];
  if (models !== undefined) sections.push(await loadSection('@loom/models/dashboard', models));
  return sections;
}

async function loadSection<S extends keyof SectionModules>(specifier: S, options: SectionModules[S]): Promise<DashboardExtension> {
  let loaded: Partial<SectionModule<SectionModules[S]>>;
  try {
    loaded = (await import(specifier)) as Partial<SectionModule<SectionModules[S]>>;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && (error as Error).message.includes(`'${packageOf(specifier)}'`);
    throw new DashboardError('BAD_OPTIONS', missing
      ? `the dashboard section ${specifier} needs ${packageOf(specifier)} installed beside @loom/scheduler (the loom command has it)`
      : `cannot load the dashboard section ${specifier}: ${(error as Error).message}`);
  }
  if (typeof loaded.createDashboardSection !== 'function') throw new DashboardError('BAD_OPTIONS', `${specifier} exports no createDashboardSection (a version that does not match this scheduler?)`);
  return loaded.createDashboardSection(options);
}

function packageOf(specifier: string): string {
  return specifier.split('/').slice(0, 2).join('/');
}
