// The C allocator settings a worker process starts with. glibc raises its mmap threshold after each large free
// (up to 32 MiB), so later partition-sized buffers come from heap arenas that keep freed memory resident: RSS
// then stays up after data was spilled or released, the memory manager spills more than it needs to, and the
// nanny kills workers whose live data is well under their limit. A fixed threshold makes every buffer of
// 128 KiB or more its own mapping, returned to the system when freed. Measured on the out-of-core run (two
// 320 MiB workers, 1.9 GB of CSV): peak RSS 233-338 MiB with glibc's default, a worker killed in some runs;
// 228-246 MiB with the fixed threshold, the same wall time within run-to-run noise.
// glibc reads these only when a process starts, so they go into the environment of the process we spawn.

const MALLOC_SETTINGS: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: String(128 * 1024) };

/** `env` plus the allocator settings, where `env` does not set them already. */
export function withWorkerMallocSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...MALLOC_SETTINGS, ...env };
}
