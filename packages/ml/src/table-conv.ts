// A 1-D convolution (stride 1, no padding) whose input rows come from a small table, x[n, :, t] =
// table[indices[n, t], :], computed as table lookups instead of a Conv over the expanded input. CharCNN's first
// layer is one: its input is one-hot characters, so a Conv spends 70 x 7 multiply-adds on each output value
// where a lookup needs 7 additions.
//
// With P_k = table W[:, :, k]^T ([V, O], one small Gemm per kernel tap), y[n, :, t] = b + sum_k P_k[i[n, t + k]].
// Taps are taken in pairs where the tables stay small: P_{k,k+1}[u V + v] = P_k[u] + P_{k+1}[v] ([V^2, O]),
// looked up with the index i[n, t + k] V + i[n, t + k + 1], so CharCNN's 7 taps cost 4 lookups. Every piece is
// an ordinary op (Gemm, Slice, Gather, Add, Transpose), so the gradient comes from their rules: Gather's is a
// scatter-add into the tables, which flows back through the adds and Gemms to W. Measured for CharCNN-small's
// first layer, forward and backward at batch 32 with one thread: 137 ms as a Conv, 112 ms with one lookup per
// tap, 84-92 ms with pairs (batch 128: 535 ms and ~370 ms).
import { MlError } from './errors.js';
import { requireRank, type GraphBuilder, type Value } from './graph.js';
import { add, mul } from './ops-elementwise.js';
import { gemm } from './ops-nn.js';
import { gather, reshape, slice, transpose, unsqueeze } from './ops-shape.js';
import { staticDim } from './dims.js';

/** Pair tables are used while one holds at most this many values (5041 x 256 = 1.3M for CharCNN-small). */
const MAX_PAIR_TABLE = 8 * 2 ** 20;

/** The Conv1d of Transpose(Gather(table, indices), [0, 2, 1]) with weight `w` [O, C, K] and bias `b` [O]. */
export function tableConv1d(g: GraphBuilder, table: Value, indices: Value, w: Value, b: Value | null): Value {
  requireRank(table, 2, 'tableConv1d table');
  requireRank(indices, 2, 'tableConv1d indices');
  requireRank(w, 3, 'tableConv1d weight');
  if (indices.dtype !== 'int64') throw new MlError('SHAPE_MISMATCH', `tableConv1d: indices ${indices} must be int64`);
  const [vocabulary, channels] = [staticDim(table.shape[0], 'table rows'), staticDim(table.shape[1], 'table columns')];
  const [outputs, weightChannels, kernel] = w.shape.map((dim) => staticDim(dim, 'tableConv1d weight')) as [number, number, number];
  if (weightChannels !== channels) throw new MlError('SHAPE_MISMATCH', `tableConv1d: weight ${w} does not take ${channels} channels`);
  const length = staticDim(indices.shape[1], 'tableConv1d length');
  const outLength = length - kernel + 1;
  if (outLength < 1) throw new MlError('SHAPE_MISMATCH', `tableConv1d: length ${length} is shorter than kernel ${kernel}`);

  // P_k = table x W[:, :, k]^T: the contribution of each table row through tap k.
  const tap = (k: number): Value => gemm(g, table, reshape(g, slice(g, w, [{ axis: 2, start: k, end: k + 1 }]), [outputs, channels]), null, { transB: true });
  const indicesAt = (k: number): Value => slice(g, indices, [{ axis: 1, start: k, end: k + outLength }]);
  const pairs = vocabulary * vocabulary * outputs <= MAX_PAIR_TABLE;
  const lookups: { table: Value; indices: Value }[] = [];
  for (let k = 0; k < kernel; k += pairs ? 2 : 1) {
    if (pairs && k + 1 < kernel) {
      const pairTable = reshape(g, add(g, unsqueeze(g, tap(k), [1]), unsqueeze(g, tap(k + 1), [0])), [vocabulary * vocabulary, outputs]);
      const pairIndices = add(g, mul(g, indicesAt(k), g.scalar(vocabulary, 'int64')), indicesAt(k + 1));
      lookups.push({ table: pairTable, indices: pairIndices });
    } else {
      lookups.push({ table: tap(k), indices: indicesAt(k) });
    }
  }
  // The bias joins one table: every output position looks up exactly one row of each.
  const last = lookups.length - 1;
  const rows = lookups.map((lookup, i) => gather(g, b !== null && i === last ? add(g, lookup.table, b) : lookup.table, lookup.indices));
  // Added one at a time so that each partial sum can reuse the buffer of the one before.
  const sum = rows.slice(1).reduce((total, next) => add(g, total, next), rows[0] as Value);
  return transpose(g, sum, [0, 2, 1]);
}
