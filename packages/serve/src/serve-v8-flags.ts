// The V8 flags `loom serve` runs with: by default `--single-threaded-gc`, so the server's one thread collects its
// own garbage instead of sharing its core with V8's helper threads (4 in Node). A request is short and its
// garbage dies young; what the helpers add is concurrent marking and sweeping, which on a server given one core
// (a container's CPU limit, or bench:serve's pinning) only take time from requests. Measured with bench:serve
// (250,000-model group, single-model infer, server pinned to one CPU): 53.9 µs of server CPU per request with
// the flag, 57.0 µs without. `LOOM_SERVE_V8_FLAGS` replaces the list (whitespace-separated, empty for V8's
// defaults); the CLI runs itself again under the flags when it was started without them (node-flags.ts in
// @loom/protocol says why it cannot set them in place).
import { nodeFlagsFromEnv } from '@loom/protocol';

export const SERVE_V8_FLAGS_ENV = 'LOOM_SERVE_V8_FLAGS';

const DEFAULT_SERVE_V8_FLAGS: readonly string[] = ['--single-threaded-gc'];

export function serveV8Flags(env: NodeJS.ProcessEnv = process.env): string[] {
  return nodeFlagsFromEnv(env, SERVE_V8_FLAGS_ENV, DEFAULT_SERVE_V8_FLAGS);
}
