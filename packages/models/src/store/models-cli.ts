// `loom models ls|show|train`: what a model store holds, from the command line. `ls` lists groups with their
// current version; `show GROUP` summarises a version (loading it, so its checksums are checked); `show GROUP ID`
// prints one model. `--json` prints the same as JSON for scripts. `train` is in ../cli/train-command.ts.
import { parseArgs } from 'node:util';
import { formatNumber as fmt, quantiles } from '../cli/figures.js';
import type { ModelMetrics } from '../families/evaluate.js';
import { mostDrifted, type DriftRecord } from './drift-results.js';
import type { StoredModel } from './model-record.js';
import { ModelStore } from './model-store.js';
import { ModelStoreError } from './store-error.js';

export const MODELS_USAGE = `loom models ls [--store DIR] [--json]
    groups in a model store: current version, models, versions
loom models show GROUP [ID] [--store DIR] [--version V] [--json]
    a version's summary (default the current one), or one model's record

  --store DIR     the model store directory (default $LOOM_MODEL_STORE, else ./models)

loom models train --split FILE --family SPEC --group NAME [--store DIR] [--local N | --scheduler ADDR] ...
    trains one model per slice of a split and publishes a new version (loom models train --help)`;

export async function runModelsCli(argv: string[], write: (text: string) => void = (text) => process.stdout.write(text)): Promise<void> {
  if (argv[0] === 'train') {
    // Loaded on demand: it brings in the client library, which ls and show do not need.
    const { runTrainCommand } = await import('../cli/train-command.js');
    return runTrainCommand(argv.slice(1), { out: write, err: process.stderr });
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { store: { type: 'string' }, version: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, group, id, ...extra] = positionals;
  if (values.help || command === undefined) {
    write(`${MODELS_USAGE}\n`);
    return;
  }
  const usage = (message: string): ModelStoreError => new ModelStoreError('BAD_OPTIONS', `${message}\n${MODELS_USAGE}`);
  if (extra.length > 0) throw usage(`unexpected arguments: ${extra.join(' ')}`);
  const version = values.version === undefined ? undefined : Number(values.version);
  if (version !== undefined && !(Number.isSafeInteger(version) && version > 0)) throw usage(`--version takes a version number, got ${values.version}`);
  const store = await ModelStore.open(values.store ?? process.env['LOOM_MODEL_STORE'] ?? 'models', { create: false });
  const out = (lines: string[]): void => write(`${lines.join('\n')}\n`);
  const json = (value: unknown): void => write(`${JSON.stringify(value, null, 2)}\n`);

  switch (command) {
    case 'ls': {
      if (group !== undefined) throw usage(`ls takes no arguments, got ${group}`);
      const rows = [];
      for (const name of await store.groups()) {
        const versions = await store.versions(name);
        const current = versions.find((v) => v.current);
        rows.push({ group: name, current: current?.version, models: current?.models, versions: versions.map((v) => v.version), published: current?.createdAt });
      }
      if (values.json) return json(rows);
      if (rows.length === 0) return out([`no groups in ${store.dir}`]);
      return out(table(['GROUP', 'CURRENT', 'MODELS', 'VERSIONS', 'PUBLISHED'], rows.map((r) => [r.group, String(r.current), String(r.models), r.versions.join(','), r.published ?? ''])));
    }
    case 'show': {
      if (group === undefined) throw usage('show needs a GROUP');
      const loaded = await store.open(group, version);
      if (id !== undefined) {
        const model = loaded.get(id);
        if (model === undefined) throw new ModelStoreError('BAD_OPTIONS', `no model ${JSON.stringify(id)} in group ${group} version ${loaded.version}`);
        return values.json ? json({ ...model, params: [...model.params], version: loaded.version }) : out(describeModel(model, loaded.version));
      }
      const versions = await store.versions(group);
      const m = loaded.manifest;
      const summary = {
        group,
        version: m.version,
        current: versions.find((v) => v.current)?.version,
        published: m.createdAt,
        models: m.models,
        families: m.families,
        paramWidth: m.paramWidth,
        extraColumns: m.extraColumns,
        carried: m.carriedFrom === null ? null : { from: m.carriedFrom, models: m.carried },
        metrics: { trainRmse: quantiles(loaded.metric('trainRmse')), testRmse: quantiles(loaded.metric('testRmse')), anomalyRate: quantiles(loaded.metric('anomalyRate')) },
        files: m.files,
        versions: versions.map((v) => v.version),
        meta: m.meta,
        drift: (await store.driftResults(group, m.version)).at(-1) ?? null,
      };
      if (values.json) return json(summary);
      const metric = (name: string, q: ReturnType<typeof quantiles>): string => `  ${name.padEnd(13)} median ${fmt(q.median)}  p90 ${fmt(q.p90)}  max ${fmt(q.max)}  (${q.count} defined)`;
      return out([
        `group ${group}, version ${m.version}${m.version === summary.current ? ' (current)' : ` (current is ${summary.current})`}, published ${m.createdAt}`,
        `models: ${m.models}${m.carriedFrom === null ? '' : ` (${m.carried} carried forward from version ${m.carriedFrom})`}`,
        `families: ${Object.entries(m.families).map(([key, n]) => `${key} x ${n}`).join(', ')}`,
        `params: ${m.paramWidth === null ? 'varying length (List<Float64>)' : `${m.paramWidth} per model (FixedSizeList<Float64>)`}`,
        `extra columns: ${m.extraColumns.length === 0 ? '(none)' : m.extraColumns.join(', ')}`,
        'metrics:',
        metric('train_rmse', summary.metrics.trainRmse),
        metric('test_rmse', summary.metrics.testRmse),
        metric('anomaly_rate', summary.metrics.anomalyRate),
        'files:',
        ...table(['  NAME', 'ROWS', 'BYTES', 'SHA256'], m.files.map((f) => [`  ${f.name}`, String(f.rows), String(f.bytes), f.sha256.slice(0, 16)])),
        `versions: ${summary.versions.join(', ')}`,
        ...(Object.keys(m.meta).length === 0 ? [] : [`meta: ${JSON.stringify(m.meta)}`]),
        ...(summary.drift === null ? [] : driftLines(summary.drift)),
      ]);
    }
    default:
      throw usage(`unknown models command '${command}'`);
  }
}

function describeModel(model: StoredModel, version: number): string[] {
  const metrics = Object.entries(model.metrics as ModelMetrics).map(([name, value]) => `${name}=${fmt(value as number)}`);
  return [
    `id          ${model.id}`,
    `family      ${model.family} (${model.familyKey})`,
    `params      [${[...model.params].map(fmt).join(', ')}]`,
    `train       [${model.trainRange.from}, ${model.trainRange.to})`,
    `test        [${model.testRange.from}, ${model.testRange.to})`,
    `metrics     ${metrics.join(' ')}`,
    `extra       ${Object.entries(model.extra).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}`,
    `trained at  ${new Date(model.trainedAt).toISOString()}`,
    `version     ${version}`,
  ];
}

/** The latest drift run of the version: when, how, and the models that drifted most. */
function driftLines(run: DriftRecord): string[] {
  const top = mostDrifted(run, 5);
  return [
    `drift (latest run, ${run.detectedAt}, ${run.method}): ${run.drifted.length} of ${run.tested} models drifted${run.failed > 0 ? `, ${run.failed} not tested` : ''}`,
    ...top.map((d) => `  ${d.id}  statistic ${fmt(d.statistic)}${d.pValue === undefined ? '' : `  p ${d.pValue.toExponential(2)}`}  threshold ${fmt(d.threshold)}${d.changeAt === undefined ? '' : `  from ${new Date(d.changeAt).toISOString()}`}`),
    ...(run.drifted.length > top.length ? [`  ... and ${run.drifted.length - top.length} more (--json lists them)`] : []),
  ];
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  return [header, ...rows].map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] as number))).join('  '));
}
