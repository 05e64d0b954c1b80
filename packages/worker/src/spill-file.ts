// The on-disk format of one spilled result: a 32-byte header (magic, codec, compression, crc32 of the stored
// payload, raw and stored lengths) followed by the payload. Reading verifies all of it, so a truncated, flipped
// or foreign file is an error for that key, never a silently wrong value.
import { open, type FileHandle } from 'node:fs/promises';
import { closeSync, openSync, writeSync } from 'node:fs';
import * as zlib from 'node:zlib';
import type { CodecName, EncodedValue } from '@loom/protocol';

export type SpillCompression = 'none' | 'gzip' | 'deflate' | 'brotli';
export const SPILL_COMPRESSIONS: readonly SpillCompression[] = ['none', 'gzip', 'deflate', 'brotli'];

export const HEADER_BYTES = 32;
const MAGIC = Buffer.from('LOOMSPIL', 'latin1');
const FORMAT_VERSION = 1;
const CODECS: readonly CodecName[] = ['json', 'v8', 'arrow-ipc'];

/** A spill file that cannot be trusted: unreadable, truncated, or failing its checksum. */
export class SpillFileError extends Error {
  override readonly name = 'SpillFileError';
  readonly code = 'SPILL_CORRUPT';
}

export interface SpillHeader {
  codec: CodecName;
  compression: SpillCompression;
  crc: number;
  rawBytes: number;
  storedBytes: number;
}

/** zlib.crc32 arrived in Node 20.15 / 22.2; a table-driven fallback keeps older 20.x working. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let table: Uint32Array | undefined;
export function crc32(data: Uint8Array, previous = 0): number {
  if (nativeCrc32) return nativeCrc32(data, previous);
  table ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = ~previous >>> 0;
  for (const byte of data) crc = ((table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8)) >>> 0;
  return ~crc >>> 0;
}

function compress(bytes: Uint8Array, compression: SpillCompression): Uint8Array {
  switch (compression) {
    case 'none':
      return bytes;
    case 'gzip':
      return zlib.gzipSync(bytes, { level: 1 });
    case 'deflate':
      return zlib.deflateSync(bytes, { level: 1 });
    case 'brotli':
      return zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } });
  }
}

function decompress(bytes: Uint8Array, compression: SpillCompression): Uint8Array {
  switch (compression) {
    case 'none':
      return bytes;
    case 'gzip':
      return zlib.gunzipSync(bytes);
    case 'deflate':
      return zlib.inflateSync(bytes);
    case 'brotli':
      return zlib.brotliDecompressSync(bytes);
  }
}

/**
 * Writes `value` to `path` (synchronously: the store stays consistent without locks, and spilling is what we do
 * when memory matters more than latency). Returns the bytes on disk, header included.
 */
export function writeSpillFile(path: string, value: EncodedValue, compression: SpillCompression): number {
  const payload = compress(value.bytes, compression);
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt8(FORMAT_VERSION, 8);
  header.writeUInt8(CODECS.indexOf(value.codec), 9);
  header.writeUInt8(SPILL_COMPRESSIONS.indexOf(compression), 10);
  header.writeUInt32LE(crc32(payload), 12);
  header.writeBigUInt64LE(BigInt(value.bytes.byteLength), 16);
  header.writeBigUInt64LE(BigInt(payload.byteLength), 24);
  // Two writes rather than a concatenation: a spilled value is large by definition, a copy of it is not free.
  const fd = openSync(path, 'w');
  try {
    writeAll(fd, header);
    writeAll(fd, payload);
  } finally {
    closeSync(fd);
  }
  return HEADER_BYTES + payload.byteLength;
}

function writeAll(fd: number, data: Uint8Array): void {
  for (let offset = 0; offset < data.byteLength; ) offset += writeSync(fd, data, offset, data.byteLength - offset);
}

export function parseHeader(header: Uint8Array, fileBytes: number): SpillHeader {
  const buffer = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  if (buffer.byteLength < HEADER_BYTES || !buffer.subarray(0, 8).equals(MAGIC)) throw new SpillFileError('not a Loom spill file (bad magic)');
  if (buffer.readUInt8(8) !== FORMAT_VERSION) throw new SpillFileError(`unknown spill format version ${buffer.readUInt8(8)}`);
  const codec = CODECS[buffer.readUInt8(9)];
  const compression = SPILL_COMPRESSIONS[buffer.readUInt8(10)];
  if (codec === undefined || compression === undefined) throw new SpillFileError('unknown codec or compression in the spill header');
  const rawBytes = Number(buffer.readBigUInt64LE(16));
  const storedBytes = Number(buffer.readBigUInt64LE(24));
  if (fileBytes !== HEADER_BYTES + storedBytes) {
    throw new SpillFileError(`spill file is ${fileBytes} bytes, its header says ${HEADER_BYTES + storedBytes}`);
  }
  if (compression === 'none' && rawBytes !== storedBytes) throw new SpillFileError('uncompressed spill file with mismatched lengths');
  return { codec, compression, crc: buffer.readUInt32LE(12), rawBytes, storedBytes };
}

/**
 * Reads and verifies a whole spill file. The payload is read into memory of its own (not a view behind the
 * header), so a task the value is read back for can take it to its thread without a copy.
 */
export async function readSpillFile(path: string): Promise<EncodedValue> {
  const handle = await open(path, 'r');
  let payload: Buffer;
  let header: SpillHeader;
  try {
    header = await readHeader(handle);
    payload = Buffer.allocUnsafeSlow(header.storedBytes);
    let offset = 0;
    while (offset < payload.byteLength) {
      const { bytesRead } = await handle.read(payload, offset, payload.byteLength - offset, HEADER_BYTES + offset);
      if (bytesRead === 0) throw new SpillFileError('spill file shrank while being read');
      offset += bytesRead;
    }
  } finally {
    await handle.close();
  }
  if (crc32(payload) !== header.crc) throw new SpillFileError('spill file failed its checksum');
  let bytes: Uint8Array;
  try {
    bytes = decompress(payload, header.compression);
  } catch (error) {
    throw new SpillFileError(`spill file does not decompress: ${(error as Error).message}`);
  }
  if (bytes.byteLength !== header.rawBytes) throw new SpillFileError('spill file decompressed to the wrong length');
  return { codec: header.codec, bytes };
}

/**
 * An uncompressed spill file read in chunks of at most `chunkBytes`, never whole. The checksum is computed as the
 * chunks go by and the last chunk is only yielded once it matches, so a reader never completes a corrupt value.
 */
export async function* readSpillChunks(path: string, header: SpillHeader, chunkBytes: number): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    let crc = 0;
    let offset = 0;
    while (offset < header.storedBytes) {
      const length = Math.min(chunkBytes, header.storedBytes - offset);
      const chunk = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(chunk, 0, length, HEADER_BYTES + offset);
      if (bytesRead !== length) throw new SpillFileError('spill file shrank while being read');
      crc = crc32(chunk, crc);
      offset += length;
      if (offset === header.storedBytes && crc !== header.crc) throw new SpillFileError('spill file failed its checksum');
      yield chunk;
    }
  } finally {
    await handle.close();
  }
}

/** Reads only the header (for streaming): throws SpillFileError when it is unusable. */
export async function readSpillHeader(path: string): Promise<SpillHeader> {
  const handle = await open(path, 'r');
  try {
    return await readHeader(handle);
  } finally {
    await handle.close();
  }
}

async function readHeader(handle: FileHandle): Promise<SpillHeader> {
  const { size } = await handle.stat();
  const header = Buffer.alloc(HEADER_BYTES);
  const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0);
  if (bytesRead !== HEADER_BYTES) throw new SpillFileError('spill file is shorter than its header');
  return parseHeader(header, size);
}
