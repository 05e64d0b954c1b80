// readCommonInferRequest reads the common infer request straight from bytes; the general path (JSON.parse and
// every check) is the reference. Over seeded random bodies in the common shape the two must agree value for
// value (Object.is: -0 and every bit of every double), and over random mutations of them the reader must
// either step aside (undefined) or agree with a general path that accepts the body. decimalToDouble is held
// to Number() on numbers built to sit near the midpoint between two doubles, where a conversion that is off
// by one rounding step shows. LOOM_TEST_SEED=<n> replays one sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '@loom/testing';
import { decimalToDouble } from '../src/decimal-double.js';
import { readCommonInferRequest } from '../src/infer-request-common.js';
import { parseInferRequest, parseJsonInferRequest, type InferRequest } from '../src/infer-request.js';

const SEED = Number(process.env['LOOM_TEST_SEED'] ?? 20261203);

const bits = new Float64Array(1);
const words = new BigUint64Array(bits.buffer);

/** A double drawn over every bit pattern, then scaled to about 10^-8..10^8, where metric values live. */
function metricDouble(random: Random): number {
  for (;;) {
    words[0] = (BigInt(random.int(2 ** 26)) << 38n) | (BigInt(random.int(2 ** 26)) << 12n) | BigInt(random.int(4096));
    const x = bits[0] as number;
    if (!Number.isFinite(x) || x === 0) continue;
    return (x / 2 ** Math.round(Math.log2(Math.abs(x)))) * 10 ** (random.int(17) - 8);
  }
}

/** A JSON number's text in one of the forms clients write. */
function numberText(random: Random): string {
  switch (random.int(9)) {
    case 0:
      return String(metricDouble(random)); // JSON.stringify's shortest round trip: up to 17 digits
    case 1:
      return String(Math.round(metricDouble(random) * 100) / 100);
    case 2:
      return metricDouble(random).toPrecision(1 + random.int(21)).replace(/e\+?/, 'e'); // 1..21 digits, some with exponents
    case 3: {
      // A digit string of 1..22 digits with a point anywhere, a sign and an exponent sometimes.
      let digits = '';
      const n = 1 + random.int(22);
      for (let i = 0; i < n; i++) digits += String(random.int(10));
      digits = digits.replace(/^0+(?=\d)/, '');
      const point = random.int(digits.length + 1);
      let text = point === 0 ? `0.${digits}` : point < digits.length ? `${digits.slice(0, point)}.${digits.slice(point)}` : digits;
      if (random.chance(0.3)) text = `-${text}`;
      if (random.chance(0.3)) text += `${random.pick(['e', 'E'])}${random.pick(['', '+', '-'])}${random.int(30)}`;
      return text;
    }
    case 4:
      return random.pick(['0', '-0', '0.0', '-0.0', '0e5', '1e22', '1e23', '1e-22', '1e-23', '9007199254740993', '9007199254740995', '-9007199254740993', '123456789012345678', '1234567890123456789', '12345678901234567890', '5e-324', '1.7976931348623157e308', '4.9406564584124654e-324', '2.2250738585072014e-308']);
    case 5:
      return String(random.int(1_000_000) - 500_000);
    case 6:
      return nearMidpoint(random);
    default:
      return String(metricDouble(random) * 10 ** (random.int(60) - 30));
  }
}

/** The decimal of the exact midpoint between a double and the next, cut to 16..19 digits, give or take one. */
function nearMidpoint(random: Random): string {
  const exponent = 1023 + random.int(80) - 40;
  words[0] = (BigInt(exponent) << 52n) | (BigInt(random.int(2 ** 26)) << 26n) | BigInt(random.int(2 ** 26));
  const mantissa = (words[0] & ((1n << 52n) - 1n)) | (1n << 52n);
  // The midpoint is (2 * mantissa + 1) x 2^(exponent - 1075 - 1).
  const power2 = exponent - 1076;
  const odd = 2n * mantissa + 1n;
  const digits = power2 >= 0 ? (odd << BigInt(power2)).toString() : (odd * 5n ** BigInt(-power2)).toString();
  const power10 = power2 >= 0 ? 0 : power2;
  const keep = Math.min(digits.length, 16 + random.int(4));
  const cut = BigInt(digits.slice(0, keep)) + BigInt(random.int(3) - 1);
  return `${cut}e${power10 + digits.length - keep}`;
}

/** Whitespace JSON allows, sometimes. */
function space(random: Random): string {
  return random.chance(0.8) ? '' : random.pick([' ', '\n', '\t', '\r\n', '  ']);
}

function idText(random: Random): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_./:';
  let id = '';
  const n = 1 + random.int(12);
  for (let i = 0; i < n; i++) id += alphabet[random.int(alphabet.length)];
  return id;
}

/** A body in the common shape, written by hand so whitespace, key order and number text vary. */
function commonBody(random: Random): string {
  const n = 1 + random.int(random.chance(0.8) ? 3 : 40);
  const t = 1 + random.int(30);
  const s = (): string => space(random);
  const ids = Array.from({ length: n }, () => JSON.stringify(idText(random)));
  const numbers = Array.from({ length: n * t }, () => numberText(random));
  const fields = (entries: string[]): string => `{${s()}${random.subset(entries, 1).sort(() => random.next() - 0.5).join(`${s()},${s()}`)}${s()}}`;
  const idsTensor = fields([
    `"name"${s()}:${s()}"ids"`,
    `"datatype":${s()}"BYTES"`,
    `"shape":[${s()}${n}${random.chance(0.2) ? `,${s()}1` : ''}${s()}]`,
    `"data":${s()}[${ids.join(`,${s()}`)}]`,
  ]);
  const valuesTensor = fields([
    `"name":"values"`,
    `"datatype":"${random.pick(['FP64', 'FP32'])}"`,
    `"shape":[${n},${s()}${t}]`,
    `"data":[${s()}${numbers.join(`${s()},${s()}`)}${s()}]`,
  ]);
  const tensors = random.chance(0.5) ? [idsTensor, valuesTensor] : [valuesTensor, idsTensor];
  const top = [`"inputs"${s()}:${s()}[${s()}${tensors.join(`${s()},${s()}`)}${s()}]`];
  if (random.chance(0.3)) top.push(`"id":${s()}${JSON.stringify(idText(random))}`);
  return `${s()}${fields(top)}${s()}`;
}

/** Every field equal; numbers compared with Object.is, so -0 and each bit count. */
function assertSame(actual: InferRequest, expected: InferRequest, body: string): void {
  assert.equal(actual.id, expected.id, body);
  assert.deepEqual(actual.ids, expected.ids, body);
  assert.equal(actual.points, expected.points, body);
  assert.deepEqual(actual.outputs, expected.outputs, body);
  assert.equal(actual.times, expected.times, body);
  assert.equal(actual.forecastTimes, expected.forecastTimes, body);
  assert.equal(actual.values.length, expected.values.length, body);
  for (let i = 0; i < expected.values.length; i++) {
    if (!Object.is(actual.values[i], expected.values[i])) assert.fail(`value ${i}: ${actual.values[i]} where JSON.parse gives ${expected.values[i]}\n${body}`);
  }
}

test('bodies in the common shape read the same as through JSON.parse, every double to the bit', () => {
  const random = new Random(SEED);
  let read = 0;
  for (let round = 0; round < 3000; round++) {
    const text = commonBody(random);
    const body = Buffer.from(text);
    let expected: InferRequest;
    try {
      expected = parseJsonInferRequest(body);
    } catch {
      // A number beyond any double (1e400) or the like: the general path refuses it, so must the reader.
      assert.equal(readCommonInferRequest(body), undefined, text);
      continue;
    }
    const common = readCommonInferRequest(body);
    assert.ok(common !== undefined, `the common reader stepped aside on a common body (seed ${SEED}, round ${round}):\n${text}`);
    assertSame(common, expected, text);
    read++;
  }
  assert.ok(read > 2500, `only ${read} of 3000 bodies were read`);
});

test('mutated bodies: the reader steps aside, or agrees with a general path that accepts them', () => {
  const random = new Random(SEED + 1);
  const junk = ['\\', '\\u0041', '"', ',', '[', ']', '{', '}', ':', '-', '.', 'e', '0', '01', ' ', 'é', '\u0000', 'null', 'true', '[1]', '{"a":1}', '"times"', '"parameters":{}', '"outputs":[]', 'NaN', '1e999'];
  let stepped = 0;
  for (let round = 0; round < 3000; round++) {
    let text = commonBody(random);
    for (let edits = 1 + random.int(3); edits > 0; edits--) {
      const at = random.int(text.length + 1);
      const cut = random.chance(0.5) ? random.int(4) : 0;
      text = text.slice(0, at) + (random.chance(0.8) ? random.pick(junk) : '') + text.slice(at + cut);
    }
    const body = Buffer.from(text);
    const common = readCommonInferRequest(body);
    let general: InferRequest | Error;
    try {
      general = parseJsonInferRequest(body);
    } catch (error) {
      general = error as Error;
    }
    if (common === undefined) {
      stepped++;
    } else {
      assert.ok(!(general instanceof Error), `the reader accepted a body the general path refuses (${general instanceof Error ? general.message : ''}):\n${text}`);
      assertSame(common, general, text);
    }
    // What the server calls behaves as the general path, answer or error message alike.
    let served: InferRequest | Error;
    try {
      served = parseInferRequest(body);
    } catch (error) {
      served = error as Error;
    }
    if (general instanceof Error) assert.equal(served instanceof Error ? served.message : 'accepted', general.message, text);
    else assertSame(served as InferRequest, general, text);
  }
  assert.ok(stepped > 1000, `the reader stepped aside on only ${stepped} of 3000 mutated bodies`);
});

test('decimalToDouble against Number() near the midpoints between doubles, and NaN where a midpoint is exact', () => {
  const random = new Random(SEED + 2);
  let decided = 0;
  let convertible = 0;
  for (let round = 0; round < 100_000; round++) {
    const text = nearMidpoint(random);
    const [digits = '', power = '0'] = text.split('e');
    const significant = digits.replace(/^0+/, '');
    if (significant.length > 19 || Math.abs(Number(power)) > 22) continue;
    convertible++;
    const head = Number(significant.slice(0, 15));
    const tailDigits = Math.max(0, significant.length - 15);
    const value = decimalToDouble(head, tailDigits === 0 ? 0 : Number(significant.slice(15)), tailDigits, Number(power));
    if (Number.isNaN(value)) continue;
    if (value !== Number(text)) assert.fail(`${text}: ${value}, Number() gives ${Number(text)}`);
    decided++;
  }
  // Undecided is the rare case (a number within 2^-96 of a midpoint), not a way out.
  assert.ok(convertible > 20_000 && decided > 0.999 * convertible, `decided ${decided} of ${convertible}`);
  // 2^53 + 1 and 2^53 + 3 lie exactly halfway between two doubles: only ties-to-even settles them, which the
  // two-double sum cannot see; the conversion must say so (the reader then hands the array to JSON.parse).
  assert.ok(Number.isNaN(decimalToDouble(900719925474099, 3, 1, 0)));
  assert.ok(Number.isNaN(decimalToDouble(900719925474099, 5, 1, 0)));
  for (const text of ['9007199254740993', '9007199254740995', '-9007199254740993']) {
    const body = Buffer.from(`{"inputs":[{"name":"ids","datatype":"BYTES","shape":[1],"data":["a"]},{"name":"values","datatype":"FP64","shape":[1,2],"data":[${text},1.5]}]}`);
    assert.ok(Object.is(readCommonInferRequest(body)?.values[0], JSON.parse(text)), text);
  }
});
