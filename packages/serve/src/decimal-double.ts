// A decimal number of up to 19 significant digits converted to the nearest double, without making a string:
// the 17-digit doubles that JSON.stringify and Python's json write are what infer requests carry, and
// V8's conversion of them (inside JSON.parse) was the largest single cost of reading a request.
//
// Clinger's fast path covers up to 15 digits: the digits and the power of ten are exact doubles, so one IEEE
// multiplication or division rounds correctly. Beyond 15 digits the digits M are held exactly as a sum of
// two doubles (Dekker's error-free product and Knuth's two-sum), and M x 10^power is computed to within
// 2^-102 of its value. The nearest double is then certain when the two ends of that error interval round
// to the same double (rounding is monotonic, so everything between them does too); otherwise, about once
// in 2^40 numbers, the answer is NaN and the caller converts the text another way.

/** Powers of ten that are exact doubles. */
const POWERS = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** Digits every double holds exactly (10^15 < 2^53). */
export const EXACT_DIGITS = 15;
/** Digits the two-double path takes: 10^19 < 2^64, so the low part of M stays an integer below 2^11. */
export const MAX_DIGITS = 19;
/** 2^27 + 1: Veltkamp's splitter, cutting a double into two 26-bit halves. */
const SPLITTER = 134217729;
/** A bound on the relative error of the two-double result, 2^-96: 64 times the error the steps can make. */
const ERROR = 2 ** -96;

/**
 * The exact rounding error of `product` = a x b rounded (Dekker's two-product, no fused multiply-add). The
 * error is returned rather than kept beside the product: a double stored outside a function is boxed, an
 * allocation per call.
 */
function productError(a: number, b: number, product: number): number {
  let t = SPLITTER * a;
  const aHigh = t - (t - a);
  const aLow = a - aHigh;
  t = SPLITTER * b;
  const bHigh = t - (t - b);
  const bLow = b - bHigh;
  return aLow * bLow - (((product - aHigh * bHigh) - aLow * bHigh) - aHigh * bLow);
}

/**
 * The double nearest `head` x 10^`tailDigits` + `tail`, times 10^`power`: `head` holds the first (up to 15)
 * significant digits, `tail` the next `tailDigits` (at most 4). NaN where the nearest double is not
 * certain or the power is outside +-22.
 */
export function decimalToDouble(head: number, tail: number, tailDigits: number, power: number): number {
  if (power > 22 || power < -22) return Number.NaN;
  if (tailDigits === 0) return power >= 0 ? head * (POWERS[power] as number) : head / (POWERS[-power] as number);
  // M = high + low exactly: head x 10^tailDigits by two-product, then tail added by two-sum; both errors are
  // integers below 2^10 (M < 2^64, so the doubles' spacing there is at most 2^11), so their sum is exact.
  const tens = POWERS[tailDigits] as number;
  const scaled = head * tens;
  const scaledError = productError(head, tens, scaled);
  const high = scaled + tail;
  const virtual = high - scaled;
  const sumError = (scaled - (high - virtual)) + (tail - virtual);
  const low = scaledError + sumError;
  const p = POWERS[power < 0 ? -power : power] as number;
  let main: number;
  let rest: number;
  if (power >= 0) {
    main = high * p;
    rest = productError(high, p, main) + low * p;
  } else {
    main = high / p;
    // The remainder M - main x p, exactly but for the last addition (high - product is exact: Sterbenz).
    const product = main * p;
    rest = ((high - product) - productError(main, p, product) + low) / p;
  }
  const bound = Math.abs(main) * ERROR;
  const below = main + (rest - bound);
  const above = main + (rest + bound);
  return below === above ? below : Number.NaN;
}
