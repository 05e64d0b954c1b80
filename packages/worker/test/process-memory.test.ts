// Reading another process's memory from /proc: current and peak resident set, and nothing for a gone process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processMemory } from '../src/process-memory.js';

test('reads VmRSS and VmHWM of a live process, undefined for one that does not exist', () => {
  const rss = processMemory(process.pid);
  const peak = processMemory(process.pid, 'VmHWM');
  assert.ok(rss !== undefined && rss > 10 * 2 ** 20, `rss ${rss}`);
  assert.ok(peak !== undefined && peak >= rss, `peak ${peak} >= rss ${rss}`);
  assert.equal(processMemory(2 ** 22 + 12345), undefined);
});
