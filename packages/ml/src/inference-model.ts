// Loading an exported model for prediction: reads metadata_props from the ONNX file itself (onnxruntime-node does
// not expose them) and runs the model on the configured execution provider.
import { readFile } from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import { createSession, type ExecutionConfig, type ProviderName } from './execution.js';
import { MlError } from './errors.js';
import { onnxPb, type onnx } from './onnx-schema.js';
import { runSession } from './ort-tensors.js';
import type { TensorData } from './tensor-data.js';
import { encodeTexts, textEncodingFromMetadata } from './text-encoding.js';

export interface TextPrediction {
  /** The most likely class. */
  readonly label: string;
  /** Softmax of the logits, by class name. */
  readonly probabilities: Readonly<Record<string, number>>;
}

export function readModelMetadata(model: Uint8Array): Record<string, string> {
  let decoded: onnx.ModelProto;
  try {
    decoded = onnxPb.ModelProto.decode(model);
  } catch (error: unknown) {
    throw new MlError('INVALID_ARGUMENT', 'not an ONNX model', { cause: error });
  }
  const out: Record<string, string> = {};
  for (const entry of decoded.metadataProps) out[entry.key ?? ''] = entry.value ?? '';
  return out;
}

export class InferenceModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: ProviderName,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  static async load(source: string | Uint8Array, execution: ExecutionConfig = {}): Promise<InferenceModel> {
    const bytes = typeof source === 'string' ? new Uint8Array(await readFile(source)) : source;
    const metadata = readModelMetadata(bytes);
    const { session, provider } = await createSession(bytes, execution);
    return new InferenceModel(session, provider, metadata);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Runs the model; returns every output by name. */
  run(inputs: Readonly<Record<string, TensorData>>): Promise<Record<string, TensorData>> {
    return runSession(this.session, inputs, this.session.outputNames);
  }

  /**
   * Classifies texts with a text model (input `chars`, output `logits`), encoding them as its metadata says
   * (alphabet, length, lowercase) and naming classes from its `classes` metadata.
   */
  async classifyTexts(texts: readonly string[]): Promise<TextPrediction[]> {
    const encoding = textEncodingFromMetadata(this.metadata);
    const classes: unknown = JSON.parse(this.metadata['classes'] ?? 'null');
    if (!Array.isArray(classes) || !classes.every((name) => typeof name === 'string')) {
      throw new MlError('INVALID_ARGUMENT', "the model's metadata has no 'classes' list; it is not a Loom text classifier");
    }
    if (texts.length === 0) return [];
    const chars = encodeTexts(texts, encoding);
    const outputs = await this.run({ chars: { dtype: 'int64', shape: [texts.length, encoding.length], data: chars } });
    const logits = outputs['logits'];
    if (logits === undefined) throw new MlError('INVALID_ARGUMENT', "the model has no 'logits' output");
    return texts.map((_, row) => {
      const values = Array.from(logits.data.subarray(row * classes.length, (row + 1) * classes.length) as Float32Array);
      const max = Math.max(...values);
      const exps = values.map((value) => Math.exp(value - max));
      const total = exps.reduce((a, b) => a + b, 0);
      const probabilities: Record<string, number> = {};
      classes.forEach((name: string, i) => { probabilities[name] = (exps[i] as number) / total; });
      const best = values.indexOf(max);
      return { label: classes[best] as string, probabilities };
    });
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
