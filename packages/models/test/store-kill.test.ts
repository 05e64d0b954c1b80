// Atomic publish under SIGKILL: a child publishes versions in a loop and is killed at seeded random moments,
// half of them a few ms after it starts publishing, the others a few ms after a random one of its steps. After each kill (and all along, from a reader in this process) the
// current version must be a complete one: every file matching its checksum, its models those of one round,
// and never older than the last version the child saw published. Re-running resumes the killed stage.
// LOOM_TEST_SEED=<n> reruns one sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isModelStoreError, ModelStore, type ModelGroup } from '../src/index.js';
import { tempDir } from './store-helpers.js';
import { TestRng } from './families-series.js';

const LOOP = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'store-publish-loop.js');
const KILLS = 8;


/** Runs the loop until `until` says stop (it sees each stdout line), then SIGKILLs it. */
function runLoop(dir: string, log: string, until: (line: string, kill: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [LOOP, dir, log], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let killed = false;
    const kill = (): void => {
      killed = true;
      child.kill('SIGKILL');
    };
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!killed) until(line, kill);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => {
      if (killed && signal === 'SIGKILL') resolve();
      else reject(new Error(`publish loop exited on its own (code ${code}, signal ${signal}):\n${stderr}`));
    });
  });
}

function loggedVersions(log: string): Array<{ version: number; round: number }> {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((line) => {
    const [version, round] = line.split(' ').map(Number) as [number, number];
    return { version, round };
  });
}

/** A loaded version holds exactly one round's models: contiguous ids, retrained ones from this round. */
function checkRound(group: ModelGroup, context: string): void {
  const { round, retrained } = group.manifest.meta as { round: number; retrained: number };
  assert.equal(group.size, group.ids.length, context);
  for (let i = 0; i < group.size; i++) {
    const params = group.params(`m${i}`);
    assert.ok(params, `${context}: version ${group.version} lacks m${i} of ${group.size}`);
    assert.equal(params[1], i, context);
    if (i < retrained) assert.equal(params[0], round, `${context}: m${i} is not from round ${round}`);
    else assert.ok((params[0] as number) < round && (params[0] as number) >= 1, `${context}: carried m${i} from round ${params[0]}`);
  }
}

test('SIGKILL at random moments never leaves a torn current version; runs resume', { timeout: 120_000 }, async () => {
  const seed = Number(process.env['LOOM_TEST_SEED'] ?? 15);
  const rng = new TestRng(seed);
  const random = (): number => rng.uniform();
  const dir = join(tempDir('store-kill'), 'store');
  const log = join(dir, '..', 'published.log');
  const store = await ModelStore.open(dir);

  // A reader in this process, opening the current version over and over while the child writes.
  let reading = true;
  let reads = 0;
  const reader = (async () => {
    while (reading) {
      try {
        checkRound(await store.open('g'), `seed ${seed}, concurrent read`);
        reads++;
      } catch (error) {
        if (!isModelStoreError(error, 'UNKNOWN_GROUP') && !isModelStoreError(error, 'NO_CURRENT_VERSION')) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();

  let duringPublish = 0;
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      const context = `seed ${seed}, kill ${kill}`;
      // Half the kills come a few ms after the child starts publishing; the others a few ms after a random one of
      // its next steps (a batch written, publishing, published), so they spread over every phase.
      const atPublish = random() < 0.5;
      const steps = 1 + Math.floor(random() * 14);
      const delay = random() * (atPublish ? 15 : 8);
      const before = loggedVersions(log).length;
      let seen = 0;
      let publishing = false;
      await runLoop(dir, log, (line, stop) => {
        if (line === 'ready') return;
        publishing = line.startsWith('publishing');
        if (atPublish ? publishing : ++seen === steps) setTimeout(stop, delay);
      });
      if (publishing && loggedVersions(log).length === before) duringPublish++;

      const logged = loggedVersions(log);
      const current = await store.current('g');
      const last = logged.at(-1);
      if (last === undefined) continue;
      assert.ok(current !== undefined && current >= last.version, `${context}: current ${current} is older than published ${last.version}`);
      const group = await store.open('g');
      checkRound(group, context);
      for (const { version } of await store.versions('g')) checkRound(await store.open('g', version), `${context}, version ${version}`);
    }
    // A last run finishes the stage the last kill interrupted and goes on publishing.
    const before = (await store.current('g')) ?? 0;
    await runLoop(dir, log, (line, stop) => {
      if (line.startsWith('publishing') && Number(line.split(' ')[1]) >= before + 2) setTimeout(stop, 200);
    });
    assert.ok(((await store.current('g')) ?? 0) >= before + 1, `seed ${seed}: the loop made no progress after resuming`);
  } finally {
    reading = false;
    await reader;
  }
  assert.ok(reads > 0, `seed ${seed}: the concurrent reader never saw a version`);
  const versions = (await store.versions('g')).map((v) => v.version);
  assert.deepEqual(versions, Array.from({ length: versions.length }, (_, i) => i + 1), `seed ${seed}: no version published twice or skipped`);
  process.stdout.write(`# seed ${seed}: ${versions.length} versions, ${duringPublish} of ${KILLS} kills landed during publish, ${reads} concurrent reads\n`);
});
