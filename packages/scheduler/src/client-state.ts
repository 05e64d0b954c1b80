// The scheduler's record of one connected client: the keys it holds (futures, persisted data, results it waits for).
import type { TaskState } from './task-state.js';

export class ClientState {
  readonly wants = new Set<TaskState>();
  constructor(
    readonly id: string,
    readonly name: string,
  ) {}
}
