// The names @loom/jobs keeps beside BullMQ's own keys: one BullMQ queue per Loom job queue (default 'loom'),
// the definitions its runners serve (name -> defaults, so a submit by name knows the job and its attempts), and
// the cancellations asked for (id -> reason), which outlive a runner that was not there to hear them.
export const DEFAULT_QUEUE = 'loom';
/** The custom event a cancel publishes on the queue's event stream; runners abort the job if they run it. */
export const CANCEL_EVENT = 'loom-cancel';

export function definitionsKey(queue: string): string {
  return `loom-jobs:${queue}:definitions`;
}

export function cancelledKey(queue: string): string {
  return `loom-jobs:${queue}:cancelled`;
}

/** What a job carries in BullMQ's `data`: the user's parameters and the per-try timeout. */
export interface JobData {
  params: unknown;
  timeoutMs?: number;
}
