#!/usr/bin/env node
// Real services for the tests that need them. PostgreSQL: installed with apt-get when missing (as root), its
// cluster started, and a `loom` role and `loom_test` database created. Prints nothing on success but one line;
// exports LOOM_TEST_PG_URL for the test processes. Fails loudly rather than letting database tests skip.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

export const PG_URL = 'postgres://loom:loom@127.0.0.1:5432/loom_test';

function sh(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  return { ok: result.status === 0, out: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

function postgresVersion() {
  if (!existsSync('/usr/lib/postgresql')) return undefined;
  const versions = readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`));
  return versions.sort((a, b) => Number(b) - Number(a))[0];
}

/** apt-get install, with one `apt-get update` first when the package lists are too old to find it. */
function aptInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const args = ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-qq', ...packages];
  if (!sh('apt-get', args, { env }).ok) {
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', args, { stdio: 'inherit', env });
  }
}

/** Debian's python3 (not whatever python3 is first on PATH), where the numerical reference packages install. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/**
 * The reference implementations differential tests compare against (statsmodels for the model families),
 * installed with apt-get when Debian's python3 cannot import them.
 */
export function ensurePythonReferences() {
  const has = (module) => existsSync(SYSTEM_PYTHON) && sh(SYSTEM_PYTHON, ['-c', `import ${module}`]).ok;
  // scipy comes with statsmodels on Debian; it is checked apart because the drift tests compare ks_2samp.
  if (has('statsmodels') && has('scipy.stats')) return;
  console.error('[services] installing statsmodels and scipy for the differential tests (apt-get install -y python3-statsmodels python3-scipy)');
  aptInstall(['python3-statsmodels', 'python3-scipy']);
  if (!has('statsmodels')) throw new Error('python3-statsmodels did not install; the model-family tests compare against it');
  if (!has('scipy.stats')) throw new Error('python3-scipy did not install; the drift tests compare against scipy.stats.ks_2samp');
}

/**
 * redis-server for the durable-jobs tests, installed with apt-get when missing. Nothing is started here: each
 * test starts its own server (its own port and append-only directory) so it can kill and restart it.
 */
export function ensureRedis() {
  const has = () => sh('redis-server', ['--version']).ok;
  if (has()) return;
  console.error('[services] installing redis-server for the jobs tests (apt-get install -y redis-server)');
  aptInstall(['redis-server']);
  if (!has()) throw new Error('redis-server did not install; the jobs tests need it (apt-get install -y redis-server)');
  // Debian starts a system-wide server on 6379 on install; the tests use their own, so it may keep running.
}

/** Debian's Chromium, which the dashboard's browser tests drive through playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';

export function ensureChromium() {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  console.error('[services] installing Chromium for the dashboard browser tests (apt-get install -y chromium)');
  aptInstall(['chromium']);
  if (!existsSync(CHROMIUM)) throw new Error(`chromium did not install at ${CHROMIUM}; the dashboard browser tests need it (apt-get install -y chromium)`);
  return CHROMIUM;
}

export function ensurePostgres() {
  let version = postgresVersion();
  if (version === undefined) {
    console.error('[services] installing PostgreSQL (apt-get install -y postgresql)');
    aptInstall(['postgresql']);
    version = postgresVersion();
    if (version === undefined) throw new Error('PostgreSQL did not install; the database tests need it (apt-get install -y postgresql)');
  }
  const status = sh('pg_ctlcluster', [version, 'main', 'status']);
  if (!status.ok) {
    const started = sh('pg_ctlcluster', [version, 'main', 'start']);
    if (!started.ok) throw new Error(`could not start PostgreSQL ${version}: ${started.out}`);
  }
  const psql = (sql, db = 'postgres') => sh('su', ['postgres', '-c', `psql -v ON_ERROR_STOP=1 -qtA -d ${db} -c "${sql}"`]);
  for (let attempt = 0; attempt < 50 && !psql('SELECT 1').ok; attempt++) execFileSync('sleep', ['0.2']);
  if (psql("SELECT 1 FROM pg_roles WHERE rolname='loom'").out !== '1') {
    const created = psql("CREATE ROLE loom LOGIN PASSWORD 'loom'");
    if (!created.ok) throw new Error(`could not create the loom role: ${created.out}`);
  }
  if (psql("SELECT 1 FROM pg_database WHERE datname='loom_test'").out !== '1') {
    const created = psql('CREATE DATABASE loom_test OWNER loom');
    if (!created.ok) throw new Error(`could not create the loom_test database: ${created.out}`);
  }
  console.error(`[services] PostgreSQL ${version} running; tests use ${PG_URL}`);
  return PG_URL;
}

if (import.meta.url === `file://${process.argv[1]}`) ensurePostgres();
