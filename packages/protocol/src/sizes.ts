// Human byte sizes ('2GiB', '512 MB', 1e9) to numbers and back, for limits given on the command line.
const UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
  k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40,
};

export function parseBytes(size: string | number): number {
  if (typeof size === 'number') {
    if (!Number.isFinite(size) || size < 0) throw new RangeError(`invalid byte size: ${size}`);
    return Math.floor(size);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(size);
  const unit = UNITS[(match?.[2] ?? '').toLowerCase() || 'b'];
  if (!match || unit === undefined) {
    throw new RangeError(`invalid byte size '${size}': expected a number with an optional unit such as 512MiB or 2GB`);
  }
  return Math.floor(Number(match[1]) * unit);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
