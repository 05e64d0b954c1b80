"""Dask reference for `pnpm bench:data`, run in the same session as Loom's measurements:
1. worker-to-worker transfer of a 64 MiB NumPy array (end to end, and as timed by the receiving worker);
2. the out-of-core run: CSV files several times the cluster's memory, filtered, persisted (spilling), counted
   and summed, on 2 worker processes x 1 thread with the given memory limit.
Prints one JSON object per measurement. Run with /usr/bin/python3 (Debian's python3-distributed).
"""
import json
import resource
import sys
import time

import dask
import dask.dataframe as dd
import numpy as np
from distributed import Client, LocalCluster, wait


def transfer(client, mib=64, repeats=3):
    workers = sorted(client.scheduler_info()["workers"])
    a, b = workers[0], workers[1]
    best_e2e, best_recv = 0.0, 0.0
    for i in range(repeats):
        x = client.submit(np.random.random, mib * 2**20 // 8, workers=[a], pure=False)
        wait(x)
        start = time.perf_counter()
        n = client.submit(lambda arr: arr.nbytes, x, workers=[b], pure=False).result()
        e2e = n / (time.perf_counter() - start) / 1e6
        logs = client.run(lambda dask_worker: list(getattr(dask_worker, "transfer_incoming_log", None) or dask_worker.incoming_transfer_log), workers=[b])
        entries = [e for e in logs[b] if e.get("total", 0) >= n]
        recv = entries[-1]["total"] / entries[-1]["duration"] / 1e6 if entries else float("nan")
        best_e2e, best_recv = max(best_e2e, e2e), max(best_recv, recv)
        del x
    return {"measure": "transfer_64MiB", "end_to_end_MBps": best_e2e, "receiver_MBps": best_recv}


def out_of_core(pattern, memory_limit, blocksize, threshold):
    with dask.config.set({"distributed.logging.distributed": "error"}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit=memory_limit, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                start = time.perf_counter()
                df = dd.read_csv(pattern, blocksize=blocksize)
                kept = df[df.value >= threshold].persist()
                wait(kept)
                count = int(kept.shape[0].compute())
                total = int(kept.value.sum().compute())
                seconds = time.perf_counter() - start
                spilled = client.run(lambda dask_worker: dask_worker.data.spilled_total.disk if hasattr(dask_worker.data, "spilled_total") else 0)
                peak = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
                return {"measure": "out_of_core", "seconds": seconds, "rows": count, "sum": total,
                        "spilled_bytes": sum(v or 0 for v in spilled.values()), "peak_rss_bytes": sorted(peak.values())}


if __name__ == "__main__":
    pattern, memory_limit, blocksize, threshold = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with dask.config.set({"distributed.logging.distributed": "error"}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                print(json.dumps(transfer(client)), flush=True)
    print(json.dumps(out_of_core(pattern, memory_limit, blocksize, threshold)), flush=True)
