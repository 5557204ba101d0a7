// src/files.ts: what pban opens as a file. Regular files only, never a blocking open, and
// configuration files only up to a bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileProblem, describeFileError, openRegularFile, readSmallTextFile } from '../src/files.js';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return `${err instanceof FileProblem ? err.code : 'other'}: ${describeFileError(err)}`;
  }
  return 'no error';
}

test('regular files are read whole; anything else is refused at once with a short reason', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-files-'));
  try {
    const ok = path.join(dir, 'ok.toml');
    writeFileSync(ok, 'a = "é"\n');
    assert.equal(readSmallTextFile(ok), 'a = "é"\n');
    assert.equal(readSmallTextFile(path.join(dir, 'ok.toml'), 9), 'a = "é"\n', 'exactly the bound is fine');
    assert.equal(problem(() => readSmallTextFile(ok, 8)), 'EFBIG: is larger than 8 bytes, too large for a configuration file');
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const t0 = Date.now();
    assert.equal(problem(() => readSmallTextFile(fifo)), 'ENOTREG: is a FIFO, not a regular file');
    assert.equal(problem(() => openRegularFile(fifo)), 'ENOTREG: is a FIFO, not a regular file');
    assert.equal(problem(() => readSmallTextFile('/dev/zero')), 'ENOTREG: is a character device, not a regular file');
    assert.ok(Date.now() - t0 < 1000, 'no blocking open, no endless read');
    mkdirSync(path.join(dir, 'd'));
    assert.equal(problem(() => readSmallTextFile(path.join(dir, 'd'))), 'ENOTREG: is a directory, not a regular file');
    assert.equal(problem(() => readSmallTextFile(path.join(dir, 'none'))), 'other: no such file');
    const { fd, st } = openRegularFile(ok);
    assert.ok(st.isFile());
    closeSync(fd);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
