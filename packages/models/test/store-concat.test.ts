// Publishing copies staged files a run of rows at a time (record-concat.ts); the row encoder is the reference.
// For random files (fixed and variable params widths, extra columns with missing cells) and random runs over
// them, both encoders must write the same bytes. Seeded, so a failure reproduces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '@loom/testing';
import type { ModelRecord } from '../src/store/model-record.js';
import { encodeRuns, type RowRun } from '../src/store/record-concat.js';
import { encodeRows, RecordRows, ViewRows } from '../src/store/record-encode.js';
import { layoutOf } from '../src/store/record-schema.js';
import { decodeRecords, type RecordsView } from '../src/store/record-view.js';
import { modelRecord } from './store-records.js';

function file(random: () => number, from: number, count: number, widths: number[], keys: string[]): RecordsView {
  const records: ModelRecord[] = Array.from({ length: count }, (_, i) => {
    const extra: Record<string, string> = {};
    for (const key of keys) if (random() < 0.7) extra[key] = random() < 0.1 ? '' : `${key}-${Math.floor(random() * 5)}-é`;
    return modelRecord(from + i, 1 + Math.floor(random() * 3), widths[Math.floor(random() * widths.length)] as number, extra);
  });
  // Layout from every file of the trial, so each file's schema is the output's.
  const bytes = encodeRows(new RecordRows(records, 1.7e12 + from), { ...layoutOf(records), extraKeys: keys });
  const views = decodeRecords(bytes, `file-${from}`);
  assert.equal(views.length, 1);
  return views[0] as RecordsView;
}

test('runs of rows copied column by column are the bytes the row encoder writes for them', () => {
  const random = seededRandom(31);
  let compared = 0;
  for (let trial = 0; trial < 60; trial++) {
    const widths = random() < 0.6 ? [2 + Math.floor(random() * 10)] : [3, 5, 9];
    const keys = ['region', 'tier', 'owner'].filter(() => random() < 0.6).sort();
    const files = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, f) => file(random, 1000 * f, Math.floor(random() * 300), widths, keys));
    const runs: RowRun[] = [];
    for (let r = 0, n = Math.floor(random() * 8); r < n; r++) {
      const view = files[Math.floor(random() * files.length)] as RecordsView;
      const start = Math.floor(random() * (view.length + 1));
      runs.push({ view, start, end: start + Math.floor(random() * (view.length - start + 1)) });
    }
    const layout = files[0]!.layout;
    if (!files.every((view) => view.layout.paramWidth === layout.paramWidth)) continue; // a mixed trial: encodeRows' case
    assert.deepEqual(encodeRuns(runs, layout), encodeRows(ViewRows.of(runs), layout), `trial ${trial}`);
    compared++;
  }
  assert.ok(compared >= 40, `only ${compared} of 60 trials had one layout`);
});
