// What train() is told about the model before the classes are known: a plain, serializable description that
// travels to the workers inside every training task, where it becomes a ModelSpec once the classes are known.
import { MlError } from '../errors.js';
import type { ModelSpec } from '../model-spec.js';
import { charCnn, PAPER_ALPHABET } from '../models/char-cnn.js';

export interface CharCnnOptions {
  /** The paper's layer sizes: 'small' (256 features, 1024 units) or 'large' (1024, 2048). Default 'small'. */
  readonly size?: 'small' | 'large';
  /** Characters per example; the paper uses 1014 (the default). */
  readonly length?: number;
  /** Conv feature maps, overriding the size's; e.g. 64 for quick runs. Fully connected units default to 4x. */
  readonly width?: number;
  /** Fully connected units, overriding the size's (or 4 x width). */
  readonly hidden?: number;
  readonly alphabet?: string;
  /** Lower-case text before encoding (default true, as the paper). */
  readonly lowercase?: boolean;
  /** Dropout between the fully connected layers (default 0.5). */
  readonly dropout?: number;
  /** 'he' (default here: trains from scratch in fewer steps) or the paper's Gaussian ('paper'). */
  readonly init?: 'he' | 'paper';
}

/** A CharCNN text classifier, as train() takes it. */
export interface TextModel {
  readonly kind: 'charcnn';
  readonly size: 'small' | 'large';
  readonly length: number;
  readonly alphabet: string;
  readonly lowercase: boolean;
  readonly dropout: number;
  readonly init: 'he' | 'paper';
  readonly features?: number;
  readonly hidden?: number;
}

/** The model for train(): `charcnn({ size: 'small', length: 1014 })`, or `{ length: 256, width: 64 }` for quick runs. */
export function charcnn(options: CharCnnOptions = {}): TextModel {
  const length = options.length ?? 1014;
  if (!Number.isInteger(length) || length < 1) throw new MlError('INVALID_ARGUMENT', `length must be a positive integer, got ${length}`);
  for (const [name, value] of [['width', options.width], ['hidden', options.hidden]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new MlError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${value}`);
    }
  }
  const dropout = options.dropout ?? 0.5;
  if (!(dropout >= 0 && dropout < 1)) throw new MlError('INVALID_ARGUMENT', `dropout must be in [0, 1), got ${dropout}`);
  const hidden = options.hidden ?? (options.width !== undefined ? 4 * options.width : undefined);
  const model: TextModel = {
    kind: 'charcnn',
    size: options.size ?? 'small',
    length,
    alphabet: options.alphabet ?? PAPER_ALPHABET,
    lowercase: options.lowercase ?? true,
    dropout,
    init: options.init ?? 'he',
    ...(options.width !== undefined ? { features: options.width } : {}),
    ...(hidden !== undefined ? { hidden } : {}),
  };
  textModelSpec(model, ['a', 'b']); // fails here, on the client, for a length too short for the layer stack
  return model;
}

export function textModelSpec(model: TextModel, classes: readonly string[]): ModelSpec {
  if (model.kind !== 'charcnn') throw new MlError('INVALID_ARGUMENT', `unknown model kind '${String(model.kind)}'`);
  return charCnn({
    classes,
    size: model.size,
    alphabet: model.alphabet,
    length: model.length,
    lowercase: model.lowercase,
    dropout: model.dropout,
    init: model.init,
    ...(model.features !== undefined ? { features: model.features } : {}),
    ...(model.hidden !== undefined ? { hidden: model.hidden } : {}),
  });
}
