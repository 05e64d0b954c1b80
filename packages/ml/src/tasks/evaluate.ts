// Held-out evaluation as tasks: each partition's loss sum, correct count and rows per true class (for the
// majority-class baseline) under a checkpoint's weights, then one sum. Runs the inference graph (no dropout), in batches so memory stays small for large partitions.
import type { Table } from 'apache-arrow';
import type * as ort from 'onnxruntime-node';
import type { Checkpoint } from '../checkpoint.js';
import { createSession } from '../execution.js';
import { buildInferenceGraph, LABELS, LOSS } from '../model-graphs.js';
import { runSession } from '../ort-tensors.js';
import { VectorizedRows, tensorize } from '../text/tensorize.js';
import { modelSpecOf, type RunSpec } from './run-spec.js';
import { SessionCache } from './session-cache.js';

export interface Evaluation {
  readonly rows: number;
  /** Sum of per-row cross-entropy. */
  readonly lossSum: number;
  readonly correct: number;
  /** Rows per true class index; the largest share is the accuracy of always answering the majority class. */
  readonly labelCounts: readonly number[];
}

const EVAL_BATCH = 128;
const sessions = new SessionCache<ort.InferenceSession>((session) => session.release());

export async function evaluatePartition(run: RunSpec, checkpoint: Checkpoint, table: Table): Promise<Evaluation> {
  const spec = modelSpecOf(run);
  const session = await sessions.get(`${run.id}/eval`, async () =>
    (await createSession(buildInferenceGraph(spec, { withLoss: true }), run.execution)).session);
  const rows = new VectorizedRows(table);
  const all = new Int32Array(2 * rows.numRows);
  for (let row = 0; row < rows.numRows; row++) all[2 * row + 1] = row;
  let lossSum = 0;
  let correct = 0;
  const labelCounts = new Array<number>(run.classes.length).fill(0);
  for (let from = 0; from < rows.numRows; from += EVAL_BATCH) {
    const count = Math.min(EVAL_BATCH, rows.numRows - from);
    const batch = tensorize([rows], all, from, count);
    const results = await runSession(session, {
      chars: { dtype: 'int64', shape: [count, batch.length], data: batch.chars },
      [LABELS]: { dtype: 'int64', shape: [count], data: batch.labels },
      ...checkpoint.weights,
    }, [LOSS, 'logits']);
    lossSum += Number(results[LOSS]?.data[0]) * count;
    const logits = results['logits']?.data as Float32Array;
    const classes = logits.length / count;
    for (let r = 0; r < count; r++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if ((logits[r * classes + c] as number) > (logits[r * classes + best] as number)) best = c;
      const label = Number(batch.labels[r]);
      labelCounts[label] = (labelCounts[label] as number) + 1;
      if (best === label) correct++;
    }
  }
  return { rows: rows.numRows, lossSum, correct, labelCounts };
}

export function sumEvaluations(...evaluations: Evaluation[]): Evaluation {
  return evaluations.reduce(addEvaluations, { rows: 0, lossSum: 0, correct: 0, labelCounts: [] });
}

export function addEvaluations(a: Evaluation, b: Evaluation): Evaluation {
  const classes = Math.max(a.labelCounts.length, b.labelCounts.length);
  return {
    rows: a.rows + b.rows, lossSum: a.lossSum + b.lossSum, correct: a.correct + b.correct,
    labelCounts: Array.from({ length: classes }, (_, i) => (a.labelCounts[i] ?? 0) + (b.labelCounts[i] ?? 0)),
  };
}
