// Snappy block decompression (the format of Google's snappy, framed by nothing: a varint length, then literal
// and copy elements) into a caller's buffer. The direct Parquet path decompresses a page straight into the
// bytes of the Float64Array it returns, so a page costs one pass and no intermediate buffer; literals, which
// are nearly all of a page of doubles, are copied with one `set` rather than byte by byte.

export class SnappyError extends Error {
  constructor(message: string) {
    super(`corrupt Snappy data: ${message}`);
    this.name = 'SnappyError';
  }
}

/** The uncompressed length a Snappy block declares, and where its elements start. */
export function snappyLength(input: Uint8Array): { length: number; start: number } {
  let length = 0;
  let shift = 0;
  for (let pos = 0; pos < input.length && shift <= 28; pos++) {
    const byte = input[pos]!;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return { length, start: pos + 1 };
    shift += 7;
  }
  throw new SnappyError('the length header is truncated or longer than 32 bits');
}

/** Decompresses `input` into all of `output`, whose length must be the block's declared length. */
export function snappyDecompress(input: Uint8Array, output: Uint8Array): void {
  const { length, start } = snappyLength(input);
  if (length !== output.length) throw new SnappyError(`the block holds ${length} bytes, ${output.length} were expected`);
  let pos = start;
  let out = 0;
  const end = input.length;
  while (pos < end) {
    const tag = input[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        const bytes = len - 60;
        if (pos + bytes > end) throw new SnappyError('a literal length runs past the input');
        len = 0;
        for (let b = 0; b < bytes; b++) len += input[pos + b]! * 2 ** (8 * b);
        len += 1;
        pos += bytes;
      }
      if (pos + len > end) throw new SnappyError('a literal runs past the input');
      if (out + len > output.length) throw new SnappyError('a literal runs past the declared length');
      output.set(input.subarray(pos, pos + len), out);
      pos += len;
      out += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= end) throw new SnappyError('a copy runs past the input');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[pos++]!;
    } else if (kind === 2) {
      if (pos + 2 > end) throw new SnappyError('a copy runs past the input');
      len = (tag >>> 2) + 1;
      offset = input[pos]! | (input[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > end) throw new SnappyError('a copy runs past the input');
      len = (tag >>> 2) + 1;
      offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16)) + input[pos + 3]! * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > out) throw new SnappyError(`a copy refers ${offset} bytes back from byte ${out}`);
    if (out + len > output.length) throw new SnappyError('a copy runs past the declared length');
    if (offset >= len) {
      output.copyWithin(out, out - offset, out - offset + len);
    } else {
      // Overlapping copy: a run repeating the last `offset` bytes, which copyWithin would not produce.
      for (let i = 0; i < len; i++) output[out + i] = output[out - offset + i]!;
    }
    out += len;
  }
  if (out !== output.length) throw new SnappyError(`the elements fill ${out} of the ${output.length} declared bytes`);
}
