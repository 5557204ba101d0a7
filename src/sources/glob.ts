// A small glob matcher for logpaths (Node 20 has no fs.glob): `*`, `?` and `[...]` within one
// path segment, in any segment. No `**` and no brace expansion: a logpath names files, not trees.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const MAGIC = /[*?[]/;

/** True when the path has glob characters and must be expanded. */
export function hasGlob(p: string): boolean {
  return MAGIC.test(p);
}

/** Turns one path segment pattern into an anchored RegExp. A leading dot must be matched literally, as in sh. */
export function segmentToRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  const hiddenGuard = segment.startsWith('.') ? '' : '(?!\\.)';
  return new RegExp(`^${hiddenGuard}${re}$`);
}

/** The deepest directory of the pattern that has no glob characters: the place to watch for new matches. */
export function globBase(pattern: string): string {
  const parts = path.resolve(pattern).split('/');
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (hasGlob(part)) break;
    fixed.push(part);
  }
  return fixed.join('/') || '/';
}

/**
 * Expands a pattern to the regular files it matches now, sorted. A path without glob characters
 * is returned as is, whether it exists or not, so a log that appears later is still followed.
 */
export async function expandGlob(pattern: string): Promise<string[]> {
  const abs = path.resolve(pattern);
  if (!hasGlob(abs)) return [abs];
  const segments = abs.split('/').slice(1);
  let dirs = ['/'];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const next: string[] = [];
    for (const dir of dirs) {
      if (!hasGlob(seg)) {
        next.push(path.join(dir, seg));
        continue;
      }
      const re = segmentToRegExp(seg);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue; // a missing or unreadable directory matches nothing; the next re-check may find it
      }
      for (const name of names) if (re.test(name)) next.push(path.join(dir, name));
    }
    dirs = next;
  }
  const files: string[] = [];
  for (const p of dirs) {
    try {
      if ((await stat(p)).isFile()) files.push(p);
    } catch {
      // vanished between readdir and stat
    }
  }
  return files.sort();
}
