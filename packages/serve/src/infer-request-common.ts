// The common infer request, read straight from the body's bytes: `{"id"?, "inputs": [ids, values]}` with flat
// data, plain strings and numbers. JSON.parse of such a body builds an object tree that is only checked and
// copied into typed arrays, and that tree was most of an infer request's cost in Loom's own code; here the
// values go straight into their Float64Array and no object is made but the result.
//
// This reader never decides that a request is bad. Anything outside the shape it knows (escapes, other
// tensors or fields, nesting, a wrong datatype or shape, a number it cannot convert exactly, a byte it does
// not expect) makes it return undefined, and the request goes through parseInferRequest's general path,
// which checks everything and names the problem. What it does return is what the general path returns for
// the same body (the infer-request-common test compares the two over random bodies).
import type { InferRequest } from './infer-request.js';
import { decimalToDouble, EXACT_DIGITS, MAX_DIGITS } from './decimal-double.js';
import { OUTPUT_NAMES } from './infer-tensors.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Numbers of the data array being read (one reader at a time: the server's thread); grown as needed. */
let scratch = new Float64Array(64);

/**
 * The words the common shape is made of, matched as bytes: a string made per key would cost more than the
 * rest of the reading (~0.1 µs each, a dozen a request).
 */
const WORDS = ['id', 'inputs', 'name', 'datatype', 'shape', 'data', 'ids', 'values', 'BYTES', 'FP64', 'FP32'] as const;
type Word = (typeof WORDS)[number];
const WORD_BYTES = WORDS.map((word) => Buffer.from(word, 'latin1'));

/** A tensor as read: its data already converted (ids to strings, values to numbers). */
interface CommonTensor {
  name: Word | undefined;
  datatype: Word | undefined;
  shape: number[] | undefined;
  strings: string[] | undefined;
  numbers: Float64Array | undefined;
}

export function readCommonInferRequest(body: Buffer): InferRequest | undefined {
  return new CommonReader(body).request();
}

class CommonReader {
  #at = 0;
  /** The bytes between the quotes of the string last read by #span. */
  #spanStart = 0;
  #spanEnd = 0;

  constructor(readonly bytes: Buffer) {}

  request(): InferRequest | undefined {
    if (this.#next() !== OPEN_OBJECT) return undefined;
    this.#at++;
    let id: string | undefined;
    let sawId = false;
    let inputs: CommonTensor[] | undefined;
    if (this.#next() === CLOSE_OBJECT) return undefined;
    for (;;) {
      const key = this.#word();
      if (key === undefined || !this.#colon()) return undefined;
      if (key === 'id' && !sawId) {
        sawId = true;
        id = this.#string();
        if (id === undefined) return undefined;
      } else if (key === 'inputs' && inputs === undefined) {
        inputs = this.#tensors();
        if (inputs === undefined) return undefined;
      } else {
        return undefined;
      }
      if (!this.#more(CLOSE_OBJECT)) break;
    }
    if (this.#at === -1 || this.#next() !== -1 || inputs === undefined) return undefined;
    return common(id, inputs);
  }

  /** The byte at the next non-whitespace position (moved to), or -1 at the end. */
  #next(): number {
    const bytes = this.bytes;
    let at = this.#at;
    while (at < bytes.length) {
      const byte = bytes[at] as number;
      if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) break;
      at++;
    }
    this.#at = at;
    return at < bytes.length ? (bytes[at] as number) : -1;
  }

  #colon(): boolean {
    if (this.#next() !== COLON) return false;
    this.#at++;
    return true;
  }

  /**
   * After a member: true when a comma follows (moved past it), false when `close` does (moved past it). Any
   * other byte marks the reader failed (`#at` = -1), which every caller then reports as undefined.
   */
  #more(close: number): boolean {
    const byte = this.#next();
    if (byte === COMMA) {
      this.#at++;
      return true;
    }
    if (byte !== close) this.#at = -1;
    else this.#at++;
    return false;
  }

  /** Moves past a string of printable ASCII without escapes, its bytes then at #spanStart..#spanEnd; else false. */
  #span(): boolean {
    const bytes = this.bytes;
    if (this.#at < 0 || this.#next() !== QUOTE) return false;
    const start = this.#at + 1;
    let end = start;
    for (;;) {
      if (end >= bytes.length) return false;
      const byte = bytes[end] as number;
      if (byte === QUOTE) break;
      if (byte < 0x20 || byte >= 0x7f || byte === BACKSLASH) return false;
      end++;
    }
    this.#spanStart = start;
    this.#spanEnd = end;
    this.#at = end + 1;
    return true;
  }

  #string(): string | undefined {
    return this.#span() ? this.bytes.toString('latin1', this.#spanStart, this.#spanEnd) : undefined;
  }

  /** A string that is one of WORDS, or undefined. */
  #word(): Word | undefined {
    if (!this.#span()) return undefined;
    const bytes = this.bytes;
    const start = this.#spanStart;
    const length = this.#spanEnd - start;
    for (let w = 0; w < WORD_BYTES.length; w++) {
      const word = WORD_BYTES[w] as Buffer;
      if (word.length !== length) continue;
      let i = 0;
      while (i < length && bytes[start + i] === word[i]) i++;
      if (i === length) return WORDS[w];
    }
    return undefined;
  }

  #tensors(): CommonTensor[] | undefined {
    if (this.#next() !== OPEN_ARRAY) return undefined;
    this.#at++;
    const tensors: CommonTensor[] = [];
    if (this.#next() === CLOSE_ARRAY) return undefined;
    do {
      const tensor = this.#tensor();
      if (tensor === undefined) return undefined;
      tensors.push(tensor);
    } while (this.#more(CLOSE_ARRAY));
    return this.#at < 0 ? undefined : tensors;
  }

  #tensor(): CommonTensor | undefined {
    if (this.#next() !== OPEN_OBJECT) return undefined;
    this.#at++;
    const tensor: CommonTensor = { name: undefined, datatype: undefined, shape: undefined, strings: undefined, numbers: undefined };
    if (this.#next() === CLOSE_OBJECT) return undefined;
    do {
      const key = this.#word();
      if (key === undefined || !this.#colon()) return undefined;
      if (key === 'name' && tensor.name === undefined) {
        tensor.name = this.#word();
        if (tensor.name === undefined) return undefined;
      } else if (key === 'datatype' && tensor.datatype === undefined) {
        tensor.datatype = this.#word();
        if (tensor.datatype === undefined) return undefined;
      } else if (key === 'shape' && tensor.shape === undefined) {
        tensor.shape = this.#shape();
        if (tensor.shape === undefined) return undefined;
      } else if (key === 'data' && tensor.strings === undefined && tensor.numbers === undefined) {
        if (!this.#data(tensor)) return undefined;
      } else {
        return undefined;
      }
    } while (this.#more(CLOSE_OBJECT));
    return this.#at < 0 ? undefined : tensor;
  }

  /** An array of plain non-negative integers (no sign, fraction or exponent). */
  #shape(): number[] | undefined {
    const bytes = this.bytes;
    if (this.#next() !== OPEN_ARRAY) return undefined;
    this.#at++;
    const shape: number[] = [];
    if (this.#next() === CLOSE_ARRAY) {
      this.#at++;
      return shape;
    }
    do {
      this.#next();
      let at = this.#at;
      let value = 0;
      const start = at;
      while (at < bytes.length && (bytes[at] as number) >= ZERO && (bytes[at] as number) <= NINE) value = value * 10 + ((bytes[at++] as number) - ZERO);
      if (at === start || at - start > EXACT_DIGITS || (bytes[start] === ZERO && at - start > 1)) return undefined;
      this.#at = at;
      shape.push(value);
    } while (this.#more(CLOSE_ARRAY));
    return this.#at < 0 ? undefined : shape;
  }

  /** Flat data: all strings (ids) or all numbers (values), as the first element says. */
  #data(tensor: CommonTensor): boolean {
    if (this.#next() !== OPEN_ARRAY) return false;
    const start = this.#at++;
    const first = this.#next();
    if (first === CLOSE_ARRAY) return false;
    if (first === QUOTE) {
      const strings: string[] = [];
      do {
        const text = this.#string();
        if (text === undefined) return false;
        strings.push(text);
      } while (this.#more(CLOSE_ARRAY));
      tensor.strings = strings;
      return this.#at >= 0;
    }
    let count = 0;
    let exact = true;
    do {
      const value = this.#number();
      if (value === undefined) return false;
      if (count === scratch.length) {
        const grown = new Float64Array(count * 2);
        grown.set(scratch);
        scratch = grown;
      }
      exact &&= !Number.isNaN(value);
      scratch[count++] = value;
    } while (this.#more(CLOSE_ARRAY));
    if (this.#at < 0) return false;
    if (exact) {
      tensor.numbers = scratch.slice(0, count);
      return true;
    }
    // Some number needs more than one IEEE operation (17-digit doubles as JSON.stringify writes them): the
    // array, checked above to be plain JSON numbers, goes to JSON.parse, which converts each one exactly.
    const parsed = JSON.parse(this.bytes.toString('latin1', start, this.#at)) as number[];
    const numbers = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const value = parsed[i] as number;
      if (!Number.isFinite(value)) return false;
      numbers[i] = value;
    }
    tensor.numbers = numbers;
    return true;
  }

  /**
   * A JSON number, converted exactly (decimalToDouble: up to 19 significant digits and a power of ten within
   * +-22, the same double JSON.parse gives). NaN for a JSON number it cannot convert (moved past it all the
   * same), undefined for text that is not one.
   */
  #number(): number | undefined {
    const bytes = this.bytes;
    this.#next();
    let at = this.#at;
    let byte = bytes[at] as number;
    const negative = byte === MINUS;
    if (negative) byte = bytes[++at] as number;
    // Significant digits: the first 15 in `head`, the next ones in `tail`; `digits` counts them all.
    let head = 0;
    let tail = 0;
    let digits = 0;
    let scale = 0;
    if (byte === ZERO) {
      byte = bytes[++at] as number;
      if (byte >= ZERO && byte <= NINE) return undefined; // JSON has no leading zeros
    } else if (byte > ZERO && byte <= NINE) {
      do {
        if (digits < EXACT_DIGITS) head = head * 10 + (byte - ZERO);
        else tail = tail * 10 + (byte - ZERO);
        digits++;
        byte = bytes[++at] as number;
      } while (byte >= ZERO && byte <= NINE);
    } else {
      return undefined;
    }
    if (byte === DOT) {
      byte = bytes[++at] as number;
      const fractionStart = at;
      if (digits === 0) {
        while (byte === ZERO) {
          scale++;
          byte = bytes[++at] as number;
        }
      }
      while (byte >= ZERO && byte <= NINE) {
        if (digits < EXACT_DIGITS) head = head * 10 + (byte - ZERO);
        else tail = tail * 10 + (byte - ZERO);
        digits++;
        scale++;
        byte = bytes[++at] as number;
      }
      if (at === fractionStart) return undefined;
    }
    let exponent = 0;
    if (byte === 0x65 || byte === 0x45) {
      byte = bytes[++at] as number;
      const exponentNegative = byte === MINUS;
      if (exponentNegative || byte === PLUS) byte = bytes[++at] as number;
      const exponentStart = at;
      while (byte >= ZERO && byte <= NINE) {
        // Capped beyond any double's range: such a number is not converted here either way.
        if (exponent < 1e6) exponent = exponent * 10 + (byte - ZERO);
        byte = bytes[++at] as number;
      }
      if (at === exponentStart) return undefined;
      if (exponentNegative) exponent = -exponent;
    }
    this.#at = at;
    if (digits === 0) return negative ? -0 : 0;
    if (digits > MAX_DIGITS) return Number.NaN;
    const tailDigits = digits > EXACT_DIGITS ? digits - EXACT_DIGITS : 0;
    const value = decimalToDouble(head, tail, tailDigits, exponent - scale);
    return negative ? -value : value;
  }
}

/** The request, when its tensors are exactly ids (BYTES [n] or [n, 1]) and values (FP64 or FP32 [n, t]). */
function common(id: string | undefined, inputs: readonly CommonTensor[]): InferRequest | undefined {
  if (inputs.length !== 2) return undefined;
  const [first, second] = inputs as [CommonTensor, CommonTensor];
  const ids = first.name === 'ids' ? first : second.name === 'ids' ? second : undefined;
  const values = first.name === 'values' ? first : second.name === 'values' ? second : undefined;
  if (ids === undefined || values === undefined) return undefined;
  const n = ids.strings?.length;
  const idShape = ids.shape;
  if (ids.datatype !== 'BYTES' || n === undefined || n === 0 || idShape === undefined || idShape[0] !== n) return undefined;
  if (!(idShape.length === 1 || (idShape.length === 2 && idShape[1] === 1))) return undefined;
  const shape = values.shape;
  const numbers = values.numbers;
  if ((values.datatype !== 'FP64' && values.datatype !== 'FP32') || numbers === undefined || shape === undefined) return undefined;
  if (shape.length !== 2 || shape[0] !== n || shape[1] === 0 || n * (shape[1] as number) !== numbers.length) return undefined;
  return { id, ids: ids.strings as string[], values: numbers, points: shape[1] as number, times: undefined, forecastTimes: undefined, outputs: OUTPUT_NAMES };
}
