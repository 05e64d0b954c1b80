// Running many jobs with at most `window` in flight: each of `window` lanes takes the next job when its last one
// is done. The first failure stops new jobs from starting; the jobs already running finish (so what they
// produced is kept) and then the failure is thrown.
export async function runWindowed<T>(items: Iterable<T>, window: number, run: (item: T) => Promise<void>): Promise<void> {
  if (!Number.isSafeInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
  const next = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined) {
      const item = next.next();
      if (item.done === true) return;
      try {
        await run(item.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  if (failure !== undefined) throw failure.error;
}
