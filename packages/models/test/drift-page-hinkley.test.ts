// Page-Hinkley against a line-by-line Python transcription of river.drift.PageHinkley (river 0.21+,
// mode "both"; river is not packaged for Debian, so its update() is copied below, stats.Mean included).
// Seeded streams: noise with and without upward and downward shifts, warm-up alarms, non-default options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pageHinkley } from '../src/drift/index.js';
import { TestRng } from './families-series.js';
import { runPython } from './families-python.js';

const RIVER_PAGE_HINKLEY = `
import json, sys

class Mean:
    def __init__(self):
        self.n = 0
        self._mean = 0.0
    def update(self, x, w=1.0):
        self.n += w
        self._mean += (w / self.n) * (x - self._mean)
    def get(self):
        return self._mean

class PageHinkley:
    def __init__(self, min_instances=30, delta=0.005, threshold=50.0, alpha=1 - 0.0001):
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self._reset()
        self.drift_detected = False
    def _reset(self):
        self.drift_detected = False
        self._x_mean = Mean()
        self._sum_increase = 0.0
        self._sum_decrease = 0.0
        self._min_increase = float("inf")
        self._max_decrease = -1
    def update(self, x):
        if self.drift_detected:
            self._reset()
        self._x_mean.update(x)
        dev = x - self._x_mean.get()
        self._sum_increase = self.alpha * self._sum_increase + dev - self.delta
        self._sum_decrease = self.alpha * self._sum_decrease + dev + self.delta
        if self._sum_increase < self._min_increase:
            self._min_increase = self._sum_increase
        if self._sum_decrease > self._max_decrease:
            self._max_decrease = self._sum_decrease
        if self._x_mean.n >= self.min_instances:
            test_increase = self._sum_increase - self._min_increase
            test_decrease = self._max_decrease - self._sum_decrease
            self.drift_detected = test_increase > self.threshold or test_decrease > self.threshold
        return self

out = []
for c in json.load(open(sys.argv[1])):
    ph = PageHinkley(c['minInstances'], c['delta'], c['threshold'], c['alpha'])
    alarms = []
    for t, x in enumerate(c['stream']):
        ph.update(x)
        if ph.drift_detected:
            alarms.append(t)
    out.append(alarms)
print(json.dumps(out))
`;

interface StreamCase {
  readonly seed: number;
  readonly stream: number[];
  readonly delta: number;
  readonly threshold: number;
  readonly alpha: number;
  readonly minInstances: number;
}

function streams(): StreamCase[] {
  const cases: StreamCase[] = [];
  for (let seed = 1; seed <= 60; seed++) {
    const rng = new TestRng(seed);
    const length = 40 + rng.int(1200);
    const changeAt = rng.int(length);
    const shift = [0, 1, -1, 2, -3, 0.5][seed % 6]!;
    const stream = Array.from({ length }, (_, t) => rng.normal() + (t >= changeAt ? shift : 0));
    const defaults = seed % 3 !== 0;
    cases.push({
      seed,
      stream,
      delta: defaults ? 0.005 : 0.1,
      threshold: defaults ? 50 : 10 + rng.int(20),
      alpha: defaults ? 1 - 0.0001 : 0.99,
      minInstances: defaults ? 30 : 1 + rng.int(50),
    });
  }
  return cases;
}

test('page-hinkley alarms where river.drift.PageHinkley alarms, in both directions and after resets', () => {
  const cases = streams();
  const riverAlarms = runPython<number[][]>(RIVER_PAGE_HINKLEY, cases);
  let compared = 0;
  for (const [i, c] of cases.entries()) {
    const options = { delta: c.delta, threshold: c.threshold, alpha: c.alpha, minInstances: c.minInstances };
    const stream = Float64Array.from(c.stream);
    // Every alarm river raises, found one by one: each search starts just after the previous alarm, so
    // the reset after an alarm is exercised as well as the first detection.
    const ours: number[] = [];
    for (let from = 0; ; ) {
      const { alarmIndex } = pageHinkley(stream, { ...options, monitorFrom: from });
      if (alarmIndex < 0) break;
      ours.push(alarmIndex);
      from = alarmIndex + 1;
    }
    assert.deepEqual(ours, riverAlarms[i], `seed ${c.seed} (${JSON.stringify(options)})`);
    compared += ours.length;
  }
  assert.ok(compared > 20, `the corpus should raise alarms to compare (it raised ${compared})`);
});
