// Upper bounds on the encoded size of outgoing protobuf entries, cheap enough to take for every entry a flush
// sends, so a batch can be cut below the message limit without encoding anything twice. The bound walks the
// plain object the entry is built from: each field counts its tag, a length prefix and its content at most.
const TAG = 2; // tags of field numbers below 2048
const LENGTH = 5; // length prefixes up to 4 GiB
const SCALAR = 10; // the longest varint; a double takes 8

/** An upper bound on the bytes `value` takes when encoded as one field, or one element of a repeated field. */
export function encodedSizeBound(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return TAG + LENGTH + 3 * value.length; // a UTF-16 code unit is at most 3 bytes of UTF-8
    case 'number':
    case 'bigint':
      return TAG + SCALAR;
    case 'boolean':
      return TAG + 1;
    case 'object': {
      if (value === null) return 0;
      if (value instanceof Uint8Array) return TAG + LENGTH + value.byteLength;
      if (Array.isArray(value)) {
        let total = 0;
        for (const item of value) total += encodedSizeBound(item);
        return total;
      }
      let total = TAG + LENGTH;
      for (const name in value) {
        const field = (value as Record<string, unknown>)[name];
        if (field === undefined || field === null) continue;
        // The name counts as if encoded: a map entry encodes its key (a message field's name costs nothing, so
        // for those this only overcounts), and each map entry is a message of its own.
        total += 3 * name.length + TAG + LENGTH + encodedSizeBound(field);
      }
      return total;
    }
    default:
      return 0;
  }
}

/**
 * An upper bound on one TaskFinished entry of a WorkerToScheduler message (loom.proto), from the only two sizes in
 * it that vary: the key's length in UTF-16 code units and the inline value's bytes (undefined: the report goes
 * without a value). Every field is counted with its tag, the longest length prefix and the widest scalar, so it
 * is a true bound without walking the entry, which a worker reporting thousands of small results a turn would
 * otherwise do once per result.
 */
export function taskFinishedSizeBound(keyLength: number, valueBytes: number | undefined): number {
  const entry = TAG + LENGTH;
  const key = TAG + LENGTH + 3 * keyLength;
  const doubles = 3 * (TAG + 8); // nbytes, duration_ms, run_id
  const codec = TAG + SCALAR;
  const thread = TAG + SCALAR;
  const value = valueBytes === undefined ? 0 : TAG + LENGTH + valueBytes + TAG + 1; // value, has_value
  return entry + key + doubles + codec + thread + value;
}
