#!/usr/bin/env python3
"""bench:many's Python baselines, on the same series as Loom (bench/src/many.ts runs this with /usr/bin/python3).

The series come from a float64 .npy matrix (series x hours, in split order) that the bench writes once beside
its Parquet files: Debian 12's Python has no Parquet reader (no pyarrow, no fastparquet). Every baseline fits
AR(p) with a constant on each series' first `train` values, statsmodels' AutoReg(y, lags=p, trend='c'):

  statsmodels_loop   one process, a loop of AutoReg(...).fit() over a sample of the series (timed per model;
                     the bench extrapolates the total)
  statsmodels_pool   the same loop over a multiprocessing pool of `processes` (fork; the pool's start is not timed)
  numpy_batched      every series, in chunks (of the size found fastest on this machine, unless given), as a
                     Python user who knows NumPy would write it: the normal
                     equations of all series of a chunk at once (lagged cross products as batched dot products over
                     shifted views, no design matrix), one stacked np.linalg.solve, then the in-sample residuals
                     (sigma = sqrt(ssr / nobs), as AutoReg's sigma2) and the test range scored one step ahead with
                     the same band as Loom's ar (|error| > k sigma), i.e. the outputs Loom stores, minus the store
  statsmodels_arima  ARIMA(order).fit() (exact likelihood, statsmodels' default) over a sample, timed per model
  check              statsmodels and NumPy coefficients (const, phi_1..phi_p, sigma) of a few named series

Input: one JSON argument (see many-python.ts). Output: one JSON object per line.
"""
import json
import os
import resource
import sys
import time
import warnings
from multiprocessing import get_context

import numpy as np

DATA = None  # the memory-mapped series, global so forked pool workers share it


def emit(**fields):
    print(json.dumps(fields), flush=True)


def peak_rss_bytes(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def stride_sample(count, size):
    """`size` series spread evenly over the first `count` (every count/size-th), in order."""
    return np.unique(np.linspace(0, count - 1, min(size, count)).round().astype(np.int64))


def autoreg_params(y, p):
    from statsmodels.tsa.ar_model import AutoReg
    fit = AutoReg(y, lags=p, trend='c').fit()
    return np.append(fit.params, np.sqrt(fit.sigma2))


def autoreg_of(args):
    index, train, p = args
    return autoreg_params(np.asarray(DATA[index, :train], dtype=np.float64), p)


def statsmodels_loop(indices, train, p):
    autoreg_params(np.asarray(DATA[indices[0], :train]), p)  # imports and first-call costs, not timed
    started = time.perf_counter()
    for index in indices:
        autoreg_params(np.asarray(DATA[index, :train], dtype=np.float64), p)
    return time.perf_counter() - started


def statsmodels_pool(indices, train, p, processes):
    jobs = [(int(i), train, p) for i in indices]
    with get_context('fork').Pool(processes) as pool:
        pool.map(autoreg_of, jobs[:processes], chunksize=1)  # the workers are up and warm before the clock starts
        started = time.perf_counter()
        pool.map(autoreg_of, jobs, chunksize=max(1, len(jobs) // (processes * 8)))
        seconds = time.perf_counter() - started
    return seconds, peak_rss_bytes(resource.RUSAGE_CHILDREN)


def numpy_ar(y, train, p, k):
    """AR(p) with a constant for every row of y (series x hours): params (const, phi, sigma) and test metrics."""
    s, hours = y.shape
    n = train - p  # AutoReg's nobs
    lag = [y[:, p - i:train - i] for i in range(p + 1)]  # lag[i][:, t] = y[:, p + t - i]; lag[0] is the target
    sums = np.stack([v.sum(axis=1) for v in lag], axis=1)
    cross = np.empty((s, p + 1, p + 1))
    for i in range(p + 1):
        for j in range(i, p + 1):
            cross[:, i, j] = cross[:, j, i] = np.einsum('st,st->s', lag[i], lag[j])
    xtx = np.empty((s, p + 1, p + 1))
    xtx[:, 0, 0] = n
    xtx[:, 0, 1:] = xtx[:, 1:, 0] = sums[:, 1:]
    xtx[:, 1:, 1:] = cross[:, 1:, 1:]
    xty = np.concatenate([sums[:, :1], cross[:, 1:, 0]], axis=1)
    beta = np.linalg.solve(xtx, xty[:, :, None])[:, :, 0]
    fitted = beta[:, :1] + sum(beta[:, i:i + 1] * lag[i] for i in range(1, p + 1))
    residual = lag[0] - fitted
    sigma = np.sqrt(np.mean(residual ** 2, axis=1))
    fit_done = time.perf_counter()
    test = y[:, train:]
    forecast = beta[:, :1] + sum(beta[:, i:i + 1] * y[:, train - i:hours - i] for i in range(1, p + 1))
    error = test - forecast
    metrics = {
        'train_mae': np.mean(np.abs(residual), axis=1),
        'test_rmse': np.sqrt(np.mean(error ** 2, axis=1)),
        'test_mae': np.mean(np.abs(error), axis=1),
        'anomalies': np.count_nonzero(np.abs(error) > k * sigma[:, None], axis=1),
    }
    return np.concatenate([beta, sigma[:, None]], axis=1), metrics, fit_done


def numpy_batched(series, train, p, k, chunk):
    """One pass over every series; seconds split into read (memory map to array), fit, score."""
    read = fit = score = 0.0
    anomalies = 0
    for first in range(0, series, chunk):
        t0 = time.perf_counter()
        y = np.array(DATA[first:min(series, first + chunk)], dtype=np.float64)
        t1 = time.perf_counter()
        _, metrics, fit_done = numpy_ar(y, train, p, k)
        t2 = time.perf_counter()
        read += t1 - t0
        fit += fit_done - t1
        score += t2 - fit_done
        anomalies += int(metrics['anomalies'].sum())
    return {'read_s': read, 'fit_s': fit, 'score_s': score, 'seconds': read + fit + score, 'anomalies': anomalies}


CHUNKS = (250, 500, 1000, 2000, 5000)


def best_chunk(series, train, p, k):
    """The chunk size a careful user would settle on: the fastest of a few on (up to) 20,000 series, untimed."""
    trial = min(series, 20_000)
    numpy_batched(trial, train, p, k, 1000)  # pages of the memory map and NumPy's first calls, not compared
    seconds = {chunk: numpy_batched(trial, train, p, k, chunk)['seconds'] for chunk in CHUNKS}
    return min(seconds, key=seconds.get), seconds


def arima_loop(indices, train, order):
    from statsmodels.tsa.arima.model import ARIMA
    failed = 0
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # convergence and frequency warnings: counted as they come, not printed
        ARIMA(np.asarray(DATA[indices[0], :train]), order=order).fit()
        started = time.perf_counter()
        for index in indices:
            try:
                ARIMA(np.asarray(DATA[index, :train], dtype=np.float64), order=order).fit()
            except Exception:  # noqa: BLE001 - a failed fit is counted, as Loom counts its failed slices
                failed += 1
        seconds = time.perf_counter() - started
    return seconds, failed


def main():
    global DATA
    config = json.loads(sys.argv[1])
    DATA = np.load(config['npy'], mmap_mode='r')
    series, train, p, k = config['series'], config['train'], config['p'], config['k']
    if DATA.shape[0] < series:
        raise SystemExit(f"{config['npy']} holds {DATA.shape[0]} series, fewer than {series}")
    emit(measure='environment', numpy=np.__version__, statsmodels=__import__('statsmodels').__version__,
         cpus=os.cpu_count(), blas_threads=os.environ.get('OPENBLAS_NUM_THREADS'))

    checks = [int(i) for i in config['checks']]
    ours = numpy_ar(np.array(DATA[checks], dtype=np.float64), train, p, k)[0]
    for row, index in enumerate(checks):
        reference = autoreg_params(np.asarray(DATA[index, :train], dtype=np.float64), p)
        emit(measure='check', index=index, statsmodels=reference.tolist(), numpy=ours[row].tolist())

    sample = stride_sample(series, config['sample'])
    emit(measure='statsmodels_loop', models=len(sample), seconds=statsmodels_loop(sample, train, p))
    if config['processes'] > 1:
        seconds, child_rss = statsmodels_pool(sample, train, p, config['processes'])
        emit(measure='statsmodels_pool', models=len(sample), processes=config['processes'], seconds=seconds, peak_rss_bytes=child_rss)

    chunk = config['chunk']
    if chunk <= 0:
        chunk, trials = best_chunk(series, train, p, k)
        emit(measure='numpy_chunk', chunk=chunk, trials={str(size): seconds for size, seconds in trials.items()})
    for repeat in range(config['repeats']):
        result = numpy_batched(series, train, p, k, chunk)
        emit(measure='numpy_batched', repeat=repeat + 1, models=series, chunk=chunk, peak_rss_bytes=peak_rss_bytes(), **result)

    arima = config.get('arima')
    if arima and arima['series'] > 0 and arima['sample'] > 0:
        indices = stride_sample(arima['series'], arima['sample'])
        seconds, failed = arima_loop(indices, train, tuple(arima['order']))
        emit(measure='statsmodels_arima', models=len(indices), failed=failed, seconds=seconds, order=arima['order'])


if __name__ == '__main__':
    main()
