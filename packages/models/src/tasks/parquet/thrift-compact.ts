// The part of Thrift's compact protocol a Parquet page header needs: field headers, zigzag varints, and
// skipping whatever a reader does not use (so headers from newer writers, with fields added, still parse).
// Spec: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md

export const CompactType = {
  Stop: 0,
  True: 1,
  False: 2,
  Byte: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  Double: 7,
  Binary: 8,
  List: 9,
  Set: 10,
  Map: 11,
  Struct: 12,
} as const;
export type CompactType = (typeof CompactType)[keyof typeof CompactType];

export class ThriftError extends Error {
  constructor(message: string) {
    super(`corrupt Thrift data: ${message}`);
    this.name = 'ThriftError';
  }
}

/** Nesting a reader follows before calling the input corrupt (a page header is three levels deep). */
const MAX_DEPTH = 16;

export class CompactReader {
  pos: number;
  private lastField: number[] = [0];

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
  ) {
    this.pos = start;
  }

  /** The next field of the current struct: its id and type, or undefined at the struct's end. */
  nextField(): { id: number; type: CompactType } | undefined {
    const header = this.byte();
    const type = (header & 0x0f) as CompactType;
    if (type === CompactType.Stop) return undefined;
    const delta = header >>> 4;
    const depth = this.lastField.length - 1;
    const id = delta === 0 ? this.zigzag() : this.lastField[depth]! + delta;
    this.lastField[depth] = id;
    return { id, type };
  }

  /** Enters a nested struct (after its field header); `leaveStruct` after its Stop. */
  enterStruct(): void {
    if (this.lastField.length > MAX_DEPTH) throw new ThriftError(`structs nested deeper than ${MAX_DEPTH}`);
    this.lastField.push(0);
  }

  leaveStruct(): void {
    this.lastField.pop();
  }

  /** An i16, i32 or i64 field's value (i64 as a double: exact below 2^53, which sizes and counts are). */
  integer(): number {
    return this.zigzag();
  }

  skip(type: CompactType, depth = 0): void {
    if (depth > MAX_DEPTH) throw new ThriftError(`values nested deeper than ${MAX_DEPTH}`);
    switch (type) {
      case CompactType.True:
      case CompactType.False:
        return;
      case CompactType.Byte:
        this.need(1);
        this.pos += 1;
        return;
      case CompactType.I16:
      case CompactType.I32:
      case CompactType.I64:
        this.varint();
        return;
      case CompactType.Double:
        this.need(8);
        this.pos += 8;
        return;
      case CompactType.Binary: {
        const length = this.varint();
        this.need(length);
        this.pos += length;
        return;
      }
      case CompactType.List:
      case CompactType.Set: {
        const header = this.byte();
        const size = header >>> 4 === 15 ? this.varint() : header >>> 4;
        const element = (header & 0x0f) as CompactType;
        // Booleans in a list are one byte each, not folded into a type nibble.
        for (let i = 0; i < size; i++) element === CompactType.True || element === CompactType.False ? this.skip(CompactType.Byte) : this.skip(element, depth + 1);
        return;
      }
      case CompactType.Map: {
        const size = this.varint();
        if (size === 0) return;
        const types = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip((types >>> 4) as CompactType, depth + 1);
          this.skip((types & 0x0f) as CompactType, depth + 1);
        }
        return;
      }
      case CompactType.Struct: {
        this.enterStruct();
        for (let field = this.nextField(); field !== undefined; field = this.nextField()) this.skip(field.type, depth + 1);
        this.leaveStruct();
        return;
      }
      default:
        throw new ThriftError(`unknown compact type ${type as number} at byte ${this.pos}`);
    }
  }

  private byte(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  private need(count: number): void {
    if (this.pos + count > this.bytes.length) throw new ThriftError(`runs past the end of its ${this.bytes.length} bytes`);
  }

  /** An unsigned varint of up to 64 bits, as a double (exact below 2^53). */
  private varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new ThriftError('a varint longer than 10 bytes');
  }

  private zigzag(): number {
    const raw = this.varint();
    // Zigzag: even raw values are non-negative (raw / 2), odd ones negative (-(raw + 1) / 2).
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }
}
