// Character-level ConvNets for text classification (Zhang, Zhao & LeCun 2015, "Character-level Convolutional
// Networks for Text Classification"): one-hot characters, 6 convolutions (kernels 7,7,3,3,3,3; max-pool 3 after
// 1, 2 and 6), then 3 fully connected layers with dropout between them. Small: 256 features / 1024 units;
// large: 1024 / 2048. Width and length are configurable so tests and quick runs can shrink the network.
import { MlError } from '../errors.js';
import type { Value } from '../graph.js';
import { conv, dense, param, ParamList } from '../layers.js';
import { BATCH, type Init, type ModelSpec } from '../model-spec.js';
import { relu } from '../ops-elementwise.js';
import { conv1dLength, maxPool1d } from '../ops-nn.js';
import { flatten } from '../ops-shape.js';
import { tableConv1d } from '../table-conv.js';
import { heNormal } from '../weights.js';

/**
 * The paper's alphabet: 26 letters, 10 digits, 33 other characters and the newline, 70 entries. The paper lists
 * '-' twice; the duplicate is kept so the one-hot width is the paper's 70 (text encoding uses the first '-').
 */
export const PAPER_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"/\\|_@#$%^&*~`+-=<>()[]{}\n";

export interface CharCnnConfig {
  /** Class names; their count is the output width. */
  readonly classes: readonly string[];
  readonly size?: 'small' | 'large';
  readonly alphabet?: string;
  /** Characters per example (the paper uses 1014). */
  readonly length?: number;
  readonly lowercase?: boolean;
  /** Conv feature maps; overrides the size's 256 or 1024. */
  readonly features?: number;
  /** Fully connected units; overrides the size's 1024 or 2048. */
  readonly hidden?: number;
  /** Dropout rate between the fully connected layers (the paper uses 0.5). */
  readonly dropout?: number;
  /** 'paper': Gaussian with std 0.05 (small) or 0.02 (large); 'he': He-normal, which trains faster from scratch. */
  readonly init?: 'paper' | 'he';
}

const CONVS: readonly { kernel: number; pool: boolean }[] = [
  { kernel: 7, pool: true },
  { kernel: 7, pool: true },
  { kernel: 3, pool: false },
  { kernel: 3, pool: false },
  { kernel: 3, pool: false },
  { kernel: 3, pool: true },
];
const POOL = 3;

export function charCnn(config: CharCnnConfig): ModelSpec {
  const size = config.size ?? 'small';
  const alphabet = config.alphabet ?? PAPER_ALPHABET;
  // Code points, not UTF-16 units, so the one-hot width matches what encodeTexts produces.
  const symbols = Array.from(alphabet).length;
  const length = config.length ?? 1014;
  const features = config.features ?? (size === 'small' ? 256 : 1024);
  const hidden = config.hidden ?? (size === 'small' ? 1024 : 2048);
  const dropout = config.dropout ?? 0.5;
  const classes = config.classes.length;
  if (classes < 2) throw new MlError('INVALID_ARGUMENT', 'a classifier needs at least two classes');
  if (symbols === 0) throw new MlError('INVALID_ARGUMENT', 'the alphabet is empty');

  const paperStd = size === 'small' ? 0.05 : 0.02;
  const init = (fanIn: number): Init => (config.init === 'he' ? heNormal(fanIn) : { kind: 'normal', std: paperStd });
  const params = new ParamList();
  let channels = symbols;
  let steps = length;
  CONVS.forEach(({ kernel, pool }, i) => {
    params.add(`conv${i + 1}.weight`, [features, channels, kernel], init(channels * kernel));
    params.add(`conv${i + 1}.bias`, [features], { kind: 'constant', value: 0 });
    steps = conv1dLength(steps, kernel, {});
    if (pool) steps = Math.floor(steps / POOL);
    if (steps < 1) throw new MlError('INVALID_ARGUMENT', `length ${length} is too short for the CharCNN stack`);
    channels = features;
  });
  const fcSizes = [features * steps, hidden, hidden, classes];
  for (let i = 0; i < 3; i++) {
    const [fanIn, fanOut] = [fcSizes[i] as number, fcSizes[i + 1] as number];
    params.add(`fc${i + 7}.weight`, [fanOut, fanIn], init(fanIn));
    params.add(`fc${i + 7}.bias`, [fanOut], { kind: 'constant', value: 0 });
  }

  // Row 0 of the table is all zeros: index 0 (padding, unknown characters) encodes as the zero vector.
  const table = new Float32Array((symbols + 1) * symbols);
  for (let i = 0; i < symbols; i++) table[(i + 1) * symbols + i] = 1;

  return {
    name: `char-cnn-${size}`,
    inputs: [{ name: 'chars', dtype: 'int64', shape: [BATCH, length] }],
    target: { kind: 'classes', classes },
    params: params.specs,
    metadata: {
      alphabet: JSON.stringify(alphabet),
      length: JSON.stringify(length),
      lowercase: JSON.stringify(config.lowercase ?? true),
      classes: JSON.stringify(config.classes),
      'loom.model': JSON.stringify(`char-cnn-${size}`),
    },
    forward: (context) => {
      const { g } = context;
      const chars = context.inputs['chars'] as Value;
      // The first conv reads one-hot characters: table lookups instead of a Conv over the expanded input.
      const oneHot = g.constant({ dtype: 'float32', shape: [symbols + 1, symbols], data: table }, 'alphabet');
      let x: Value = chars;
      CONVS.forEach(({ pool }, i) => {
        const prefix = `conv${i + 1}`;
        x = i === 0
          ? tableConv1d(g, oneHot, chars, param(context, `${prefix}.weight`), param(context, `${prefix}.bias`))
          : conv(context, prefix, x);
        x = relu(g, x);
        if (pool) x = maxPool1d(g, x, { kernel: POOL });
      });
      x = flatten(g, x, 1);
      x = context.dropout(relu(g, dense(context, 'fc7', x)), dropout);
      x = context.dropout(relu(g, dense(context, 'fc8', x)), dropout);
      return dense(context, 'fc9', x);
    },
  };
}
