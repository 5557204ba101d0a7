// StdoutBytes in a real child process: the bytes a pipe reader gets are exactly the UTF-8 of
// what was written, in order, whether fd 1 is blocking (written with writeSync) or was made
// non-blocking by process.stdout (the stream takes over, in order), and a reader that goes
// away (EPIPE) does not crash the writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MODULE = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/stdout-bytes.js')).href;

// Lines of every width class (ASCII, 2-, 3- and 4-byte UTF-8), and one larger than the buffer.
const CHILD = `
import { StdoutBytes } from ${JSON.stringify(MODULE)};
if (process.argv[1] === 'stream') process.stdout.isTTY; // opens fd 1 as a stream: non-blocking
const out = new StdoutBytes();
for (let i = 0; i < 200000; i++) out.write(i % 7 === 0 ? 'línea ' + i + ' € 😀\\n' : 'line ' + i + '\\n');
out.write('x'.repeat(3 << 20) + '\\n');
out.write('end\\n');
out.flush();
process.stderr.write('done\\n');
`;

function expected(): string {
  const parts: string[] = [];
  for (let i = 0; i < 200000; i++) parts.push(i % 7 === 0 ? `línea ${i} € 😀\n` : `line ${i}\n`);
  parts.push(`${'x'.repeat(3 << 20)}\n`, 'end\n');
  return parts.join('');
}

for (const mode of ['sync', 'stream']) {
  test(`the pipe reader gets the exact UTF-8 bytes, in order (${mode})`, () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, mode], { maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.ok(r.stdout.equals(Buffer.from(expected(), 'utf8')), 'stdout differs from the UTF-8 of the lines written');
  });
}

test('a reader that goes away (EPIPE) ends the output without a crash', async () => {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, 'sync'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  assert.match(stderr, /done/);
});
