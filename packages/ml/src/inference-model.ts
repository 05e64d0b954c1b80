// Loading an exported model for prediction: reads metadata_props from the ONNX file itself (onnxruntime-node does
// not expose them) and runs the model on the configured execution provider.
import { readFile } from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import { createSession, type ExecutionConfig, type ProviderName } from './execution.js';
import { MlError } from './errors.js';
import { onnxPb, type onnx } from './onnx-schema.js';
import { runSession } from './ort-tensors.js';
import type { TensorData } from './tensor-data.js';

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

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
