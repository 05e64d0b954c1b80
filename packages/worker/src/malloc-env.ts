// The C allocator settings a worker process starts with. glibc raises its mmap threshold after each large free
// (up to 32 MiB), so later partition-sized buffers come from heap arenas that keep freed memory resident: RSS
// then stays up after data was spilled or released, the memory manager spills more than it needs to, and the
// nanny kills workers whose live data is well under their limit. A fixed threshold makes every buffer of
// 128 KiB or more its own mapping, returned to the system when freed. Measured on the out-of-core run (two
// 320 MiB workers, 1.9 GB of CSV): peak RSS 233-338 MiB with glibc's default, a worker killed in some runs;
// 228-246 MiB with the fixed threshold, the same wall time within run-to-run noise.
//
// Those mappings are also asked to use transparent huge pages (glibc 2.35+, `glibc.malloc.hugetlb=1`: madvise
// on each mapping of 2 MiB or more; ignored by older glibc, other C libraries and kernels with THP off). A
// partition that arrives from a peer or is read back from spill lands in fresh memory, and faulting that in
// 4 KiB pages cost more than copying into it (64 MiB took 35-190 ms to touch here). Measured 2026-11-22: 64 MiB
// worker -> worker about 370-390 -> 470-650 MB/s; out-of-core peaks and time unchanged (two 320 MiB workers:
// 228-242 MiB; two 512 MiB workers: 363-382 MiB). An earlier try, made before the fixed threshold, kept huge
// pages of freed buffers resident and broke that bound. A client is the user's process and keeps its own
// settings (the README says how to give it the same).
//
// glibc reads these only when a process starts, so they go into the environment of the process we spawn; a
// GLIBC_TUNABLES or MALLOC_MMAP_THRESHOLD_ already in that environment is left as the user set it.

const MALLOC_SETTINGS: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(128 * 1024),
  GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
};

/** `env` plus the allocator settings, where `env` does not set them already. */
export function withWorkerMallocSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...MALLOC_SETTINGS, ...env };
}
