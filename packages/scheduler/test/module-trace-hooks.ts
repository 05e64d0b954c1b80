// Module hooks for a scheduler started by a test: each resolution of a bare package name whose name matches
// LOOM_TRACE_MODULES is reported on stderr (`LOOM_TRACE loaded <name>`), so a test can see what a process loaded
// and when. Registered with `node --import` (see dashboard-sections.test.ts).
const watched = new RegExp(process.env['LOOM_TRACE_MODULES'] ?? '^$');
const seen = new Set<string>();

type Next = (specifier: string, context: unknown) => Promise<unknown>;

export async function resolve(specifier: string, context: unknown, next: Next): Promise<unknown> {
  if (watched.test(specifier) && !seen.has(specifier)) {
    seen.add(specifier);
    process.stderr.write(`LOOM_TRACE loaded ${specifier}\n`);
  }
  return next(specifier, context);
}
