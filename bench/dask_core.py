"""Dask reference for `npm run bench:core`: the same workloads, sizes and number of repeats as Loom's side
(bench/src/core.ts), on a Dask LocalCluster (2 worker processes x 1 thread), once with Dask's default root-task
queuing and once with worker-saturation = inf (Dask at its best on these graphs). Fresh keys every repeat
(pure=False). Prints one JSON object per configuration and repeat on stdout, with the fields of core.ts' CoreRun.

Run with Debian's interpreter (/usr/bin/python3), where python3-distributed is installed.
"""
import json
import statistics
import sys
import time

import dask
from dask import delayed
from distributed import Client, LocalCluster

COLD_MAP_TASKS = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
MAP_TASKS = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
TREE_LEAVES = int(sys.argv[3]) if len(sys.argv) > 3 else 4_096
ROUND_TRIPS = int(sys.argv[4]) if len(sys.argv) > 4 else 500
REPEATS = int(sys.argv[5]) if len(sys.argv) > 5 else 3
WARM_UP_TASKS = 500


def inc(x):
    return x + 1


def add(a, b):
    return a + b


def leaf(i, _base):
    return i


def time_map(client, count, base):
    start = time.perf_counter()
    futures = client.map(inc, range(base, base + count), pure=False)
    results = client.gather(futures)
    seconds = time.perf_counter() - start
    assert results[-1] == base + count
    del futures
    return count / seconds


def time_tree(client, base):
    start = time.perf_counter()
    level = [delayed(leaf, pure=False)(i, base) for i in range(TREE_LEAVES)]
    tasks = TREE_LEAVES
    while len(level) > 1:
        level = [delayed(add, pure=False)(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        tasks += len(level)
    total = level[0].compute()
    seconds = time.perf_counter() - start
    assert total == TREE_LEAVES * (TREE_LEAVES - 1) // 2
    return tasks, tasks / seconds


def time_round_trips(client):
    latencies = []
    for i in range(ROUND_TRIPS):
        start = time.perf_counter()
        assert client.submit(inc, i, pure=False).result() == i + 1
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    return statistics.median(latencies), latencies[-(-len(latencies) * 99 // 100) - 1]


def cluster():
    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)


def run(config_name, saturation):
    settings = {"distributed.scheduler.worker-saturation": saturation, "distributed.logging.distributed": "error"}
    with dask.config.set(settings):
        cold = []
        for repeat in range(REPEATS):
            start = time.perf_counter()
            with cluster() as local, Client(local) as client:
                start_seconds = time.perf_counter() - start
                cold.append((start_seconds, time_map(client, COLD_MAP_TASKS, (repeat + 1) * 10**6)))
        with cluster() as local, Client(local) as client:
            time_map(client, WARM_UP_TASKS, -(10**6))
            for repeat in range(REPEATS):
                base = (repeat + 1) * 10**7
                map_rate = time_map(client, MAP_TASKS, base)
                tree_tasks, tree_rate = time_tree(client, base)
                p50, p99 = time_round_trips(client)
                print(json.dumps({
                    "config": config_name,
                    "repeat": repeat + 1,
                    "cluster_start_s": cold[repeat][0],
                    "cold_map_tasks_per_s": cold[repeat][1],
                    "map_tasks_per_s": map_rate,
                    "tree_tasks": tree_tasks,
                    "tree_tasks_per_s": tree_rate,
                    "round_trip_p50_ms": p50,
                    "round_trip_p99_ms": p99,
                }), flush=True)


if __name__ == "__main__":
    run("dask default (worker-saturation 1.1)", 1.1)
    run("dask worker-saturation inf", float("inf"))
