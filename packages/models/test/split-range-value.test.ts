// Range bounds are parsed strictly: a misread bound would train on the wrong data without any error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRangeText } from '../src/split/range-value.js';

test('ISO 8601 timestamps: UTC unless an offset is given, fractions kept, impossible dates rejected', () => {
  const ms = (text: string): unknown => parseRangeText(text);
  assert.deepEqual(ms('2024-02-29'), { kind: 'timestamp', value: Date.UTC(2024, 1, 29) });
  assert.deepEqual(ms('2024-03-10T02:30'), { kind: 'timestamp', value: Date.UTC(2024, 2, 10, 2, 30) }, 'no offset means UTC, never local time');
  assert.deepEqual(ms('2024-01-01 12:00:05.25'), { kind: 'timestamp', value: Date.UTC(2024, 0, 1, 12, 0, 5, 250) });
  assert.deepEqual(ms('2024-01-01T00:00:00+05:30'), { kind: 'timestamp', value: Date.UTC(2023, 11, 31, 18, 30) });
  assert.deepEqual(ms('2024-01-01T00:00:00-0100'), { kind: 'timestamp', value: Date.UTC(2024, 0, 1, 1) });
  assert.deepEqual(ms('0050-06-01'), { kind: 'timestamp', value: new Date(Date.UTC(2000, 5, 1)).setUTCFullYear(50) });
  for (const bad of ['2023-02-29', '2024-13-01', '2024-04-31', '2024-01-01T24:00', '2024-01-01T10:61', '2024-1-1', '2024-01-01T10', '01/02/2024', '2024-01-01Z']) {
    assert.equal(typeof ms(bad), 'string', `${bad} must be rejected`);
  }
});

test('numbers: plain decimals and exponents; hex, empty, infinities rejected', () => {
  assert.deepEqual(parseRangeText('42'), { kind: 'number', value: 42 });
  assert.deepEqual(parseRangeText(' -1.5e3 '), { kind: 'number', value: -1500 });
  assert.deepEqual(parseRangeText('.5'), { kind: 'number', value: 0.5 });
  assert.equal(parseRangeText(''), 'missing value');
  for (const bad of ['0x10', 'Infinity', '1e400', '1,5', 'NaN', '--1']) assert.equal(typeof parseRangeText(bad), 'string', `${bad} must be rejected`);
});
