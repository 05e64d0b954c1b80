"""Dask reference for `pnpm bench:core`: the same three measurements on a Dask LocalCluster (2 worker processes
x 1 thread), run once with Dask's default root-task queuing and once with worker-saturation = inf (Dask at its
best on these graphs). Prints one JSON object per configuration on stdout.

Run with Debian's interpreter (/usr/bin/python3), where python3-distributed is installed.
"""
import json
import statistics
import sys
import time

import dask
from dask import delayed
from distributed import Client, LocalCluster

MAP_TASKS = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
TREE_LEAVES = int(sys.argv[2]) if len(sys.argv) > 2 else 32_768
ROUND_TRIPS = int(sys.argv[3]) if len(sys.argv) > 3 else 500


def inc(x):
    return x + 1


def add(a, b):
    return a + b


def leaf(i):
    return i


def measure(client):
    # Warm up: start worker connections and import code paths.
    client.gather(client.map(inc, range(200), pure=False))

    start = time.perf_counter()
    futures = client.map(inc, range(MAP_TASKS))
    results = client.gather(futures)
    map_seconds = time.perf_counter() - start
    assert results[-1] == MAP_TASKS
    del futures

    start = time.perf_counter()
    level = [delayed(leaf)(i) for i in range(TREE_LEAVES)]
    tasks = TREE_LEAVES
    while len(level) > 1:
        level = [delayed(add)(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        tasks += len(level)
    total = level[0].compute()
    tree_seconds = time.perf_counter() - start
    assert total == TREE_LEAVES * (TREE_LEAVES - 1) // 2

    latencies = []
    for i in range(ROUND_TRIPS):
        start = time.perf_counter()
        assert client.submit(inc, i, pure=False).result() == i + 1
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    return {
        "map_tasks_per_s": MAP_TASKS / map_seconds,
        "tree_tasks": tasks,
        "tree_tasks_per_s": tasks / tree_seconds,
        "round_trip_p50_ms": statistics.median(latencies),
        "round_trip_p99_ms": latencies[int(len(latencies) * 0.99) - 1],
    }


def run(config_name, saturation):
    with dask.config.set({"distributed.scheduler.worker-saturation": saturation, "distributed.logging.distributed": "error"}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                result = measure(client)
    result["config"] = config_name
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    run("dask default (worker-saturation 1.1)", 1.1)
    run("dask worker-saturation inf", float("inf"))
