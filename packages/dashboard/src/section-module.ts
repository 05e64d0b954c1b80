// The contract between the scheduler and the packages that add its Jobs and Models sections. Each package exports
// `createDashboardSection` from a subpath of its own (`@loom/jobs/dashboard`, `@loom/models/dashboard`); the
// scheduler imports that subpath by name only when its option is given, so a scheduler without them never loads
// BullMQ, and neither package depends on the scheduler (they depend on the client, which starts schedulers).
// Both sides are type-checked against the types here.
import type { DashboardExtension } from './section-content.js';

/** `loom scheduler --jobs-redis URL [--jobs-queue NAME]`. */
export interface JobsSectionOptions {
  /** redis:// or rediss:// URL; it may hold a password, which the section never shows nor logs. */
  redisUrl: string;
  /** The jobs queue (default 'loom', as `loom jobs`). */
  queue?: string;
}

/** `loom scheduler --model-store DIR`. */
export interface ModelsSectionOptions {
  storeDir: string;
}

export type SectionFactory<Options> = (options: Options) => DashboardExtension | Promise<DashboardExtension>;

/** The subpath each section is loaded from, and the options its factory takes. */
export interface SectionModules {
  '@loom/jobs/dashboard': JobsSectionOptions;
  '@loom/models/dashboard': ModelsSectionOptions;
}

/** What a section subpath must export. */
export interface SectionModule<Options> {
  createDashboardSection: SectionFactory<Options>;
}
