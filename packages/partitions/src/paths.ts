// Expanding the user's file patterns ('data/*.csv', 'logs/**/part-?.csv', '{a,b}.csv', or a directory: the files
// in it whose names start with neither '.' nor '_', as pyarrow's dataset discovery) into sorted absolute paths,
// synchronously at graph-build time. Node 20 has no fs.glob, so this is a small matcher over a walk that starts
// at the pattern's literal prefix.
import { readdirSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { PartitionError } from './errors.js';

const GLOB_CHARS = /[*?[{]/;

export function expandPaths(pattern: string | string[]): string[] {
  const patterns = Array.isArray(pattern) ? pattern : [pattern];
  if (patterns.length === 0) throw new PartitionError('NO_FILES', 'expandPaths needs at least one path or pattern');
  const found = new Set<string>();
  for (const one of patterns) {
    const matches = expandOne(one);
    if (matches.length === 0) {
      throw new PartitionError('NO_FILES', `no file matches ${JSON.stringify(one)} (resolved to ${resolve(one)})`);
    }
    for (const match of matches) found.add(match);
  }
  return [...found].sort();
}

function expandOne(pattern: string): string[] {
  const absolute = resolve(pattern).split(sep).join('/');
  if (!GLOB_CHARS.test(absolute)) {
    if (isFile(absolute)) return [absolute];
    return isDirectory(absolute) ? expandOne(`${absolute.replace(/\/$/, '')}/[!._]*`) : [];
  }
  const segments = absolute.split('/');
  const firstGlob = segments.findIndex((segment) => GLOB_CHARS.test(segment));
  const base = segments.slice(0, firstGlob).join('/') || '/';
  const maxDepth = segments.includes('**') ? Infinity : segments.length - firstGlob;
  const matcher = globToRegExp(absolute);
  // As in a shell, a wildcard does not match a hidden file: writers' temporary files (.part-*.tmp) stay unread.
  const hiddenAllowed = (segments.at(-1) ?? '').startsWith('.');
  const out: string[] = [];
  walk(base, 1, maxDepth, (file) => {
    if (matcher.test(file) && (hiddenAllowed || !file.slice(file.lastIndexOf('/') + 1).startsWith('.'))) out.push(file);
  });
  return out;
}

function walk(dir: string, depth: number, maxDepth: number, visit: (file: string) => void): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // a missing or unreadable directory matches nothing
  }
  for (const entry of entries) {
    const full = dir === '/' ? `/${entry.name}` : `${dir}/${entry.name}`;
    const directory = entry.isDirectory() || (entry.isSymbolicLink() && isDirectory(full));
    if (directory) {
      if (depth < maxDepth) walk(full, depth + 1, maxDepth, visit);
    } else if (entry.isFile() || (entry.isSymbolicLink() && isFile(full))) {
      visit(full);
    }
  }
}

/** `**` spans directories, `*` and `?` stay within one, `[...]` is a class (`[!...]` negated), `{a,b}` alternates. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      const slashAfter = glob[i + 2] === '/';
      out += slashAfter ? '(?:[^/]*/)*' : '.*';
      i += slashAfter ? 2 : 1;
    } else if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
        continue;
      }
      const body = glob.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
      out += `[${body}]`;
      i = close;
    } else if (c === '{') {
      const close = glob.indexOf('}', i);
      if (close === -1) {
        out += '\\{';
        continue;
      }
      out += `(?:${glob.slice(i + 1, close).split(',').map(escapeRegExp).join('|')})`;
      i = close;
    } else {
      out += escapeRegExp(c);
    }
  }
  return new RegExp(`^${out}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
