// The Arrow table a score batch answers with: `id, ts, value, forecast, lower, upper, anomaly, score`, built
// straight from the slices' typed arrays (one copy per column, no per-row objects), one record batch.
import { Bool, Field, Float64, makeData, RecordBatch, Schema, Struct, Table, TimestampMillisecond, Utf8, type Data, type DataType } from 'apache-arrow';
import type { Prediction } from '../families/family.js';
import type { RangeKind } from '../split/range-value.js';

/** The output's schema; `ts` is a UTC millisecond timestamp for a split of timestamps, a float64 otherwise. */
export function scoreSchema(rangeKind: RangeKind, metadata?: Map<string, string>): Schema {
  const ts: DataType = rangeKind === 'timestamp' ? new TimestampMillisecond() : new Float64();
  return new Schema([
    new Field('id', new Utf8(), false),
    new Field('ts', ts, false),
    new Field('value', new Float64(), false),
    new Field('forecast', new Float64(), false),
    new Field('lower', new Float64(), false),
    new Field('upper', new Float64(), false),
    new Field('anomaly', new Bool(), false),
    new Field('score', new Float64(), false),
  ], metadata);
}

/**
 * How far outside its forecast a value lies, in half-band widths: |value - forecast| / ((upper - lower) / 2).
 * 1 at the band's edge, so above 1 is an anomaly; with a band of +-k sigma it is the standardized residual
 * divided by k. A zero-width band gives 0 for a value on the forecast and Infinity for any other.
 */
export function bandScore(value: number, forecast: number, lower: number, upper: number): number {
  const residual = Math.abs(value - forecast);
  const half = (upper - lower) / 2;
  if (half > 0) return residual / half;
  return residual === 0 ? 0 : Infinity;
}

interface Segment {
  id: Uint8Array;
  times: Float64Array;
  values: Float64Array;
  prediction: Prediction;
}

export class ScoreTableBuilder {
  readonly #segments: Segment[] = [];
  #rows = 0;
  #idBytes = 0;

  /** One slice's scored test values (`prediction` at least as long as `values`). */
  add(id: string, times: Float64Array, values: Float64Array, prediction: Prediction): void {
    const bytes = Buffer.from(id, 'utf8');
    this.#segments.push({ id: bytes, times, values, prediction });
    this.#rows += values.length;
    this.#idBytes += bytes.length * values.length;
  }

  get rows(): number {
    return this.#rows;
  }

  table(rangeKind: RangeKind, metadata: Map<string, string>): Table {
    const n = this.#rows;
    const offsets = new Int32Array(n + 1);
    const idData = new Uint8Array(this.#idBytes);
    const ts = rangeKind === 'timestamp' ? new BigInt64Array(n) : new Float64Array(n);
    const value = new Float64Array(n);
    const forecast = new Float64Array(n);
    const lower = new Float64Array(n);
    const upper = new Float64Array(n);
    const score = new Float64Array(n);
    const anomaly = new Uint8Array(Math.ceil(n / 8));
    let at = 0;
    let byte = 0;
    for (const { id, times, values, prediction } of this.#segments) {
      const m = values.length;
      value.set(values, at);
      forecast.set(prediction.predicted.subarray(0, m), at);
      lower.set(prediction.lower.subarray(0, m), at);
      upper.set(prediction.upper.subarray(0, m), at);
      if (ts instanceof BigInt64Array) for (let i = 0; i < m; i++) ts[at + i] = BigInt(Math.round(times[i] as number));
      else ts.set(times, at);
      for (let i = 0; i < m; i++) {
        const row = at + i;
        const v = values[i] as number;
        const lo = prediction.lower[i] as number;
        const hi = prediction.upper[i] as number;
        if (v < lo || v > hi) anomaly[row >> 3]! |= 1 << (row & 7);
        score[row] = bandScore(v, prediction.predicted[i] as number, lo, hi);
        idData.set(id, byte);
        byte += id.length;
        offsets[row + 1] = byte;
      }
      at += m;
    }
    const schema = scoreSchema(rangeKind, metadata);
    const types = schema.fields.map((field) => field.type);
    const plain = (type: DataType, data: Float64Array | BigInt64Array | Uint8Array): Data => makeData({ type, length: n, nullCount: 0, data } as never);
    const children = [
      makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: offsets, data: idData }),
      plain(types[1] as DataType, ts),
      plain(types[2] as DataType, value),
      plain(types[3] as DataType, forecast),
      plain(types[4] as DataType, lower),
      plain(types[5] as DataType, upper),
      plain(types[6] as DataType, anomaly),
      plain(types[7] as DataType, score),
    ];
    return new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }))]);
  }
}
