// A stop that comes during Daemon.start (SIGTERM in `pban start` aborts its signal) ends the start
// cleanly wherever it is: the socket file is gone, the state directory's lock is released, and
// the next start works. In-process, with the dry-run action (no firewall).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/log.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'pban-start-stop-'));
after(() => rmSync(root, { recursive: true, force: true }));

function config(): { file: string; socket: string } {
  const file = path.join(root, 'pban.toml');
  writeFileSync(path.join(root, 'mail.log'), '');
  writeFileSync(
    file,
    `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[defaults]
action = ["dry-run"]
[jails.postfix]
filter = "postfix[mode=aggressive]"
logpath = ["mail.log"]
`,
  );
  return { file, socket: path.join(root, 'pban.sock') };
}

const logger = createLogger({ level: 'silent' });

for (const when of ['before the start', 'as the start begins'] as const) {
  test(`a stop signalled ${when} ends it cleanly, and the next start works`, async () => {
    const { file, socket } = config();
    const stop = new AbortController();
    if (when === 'before the start') stop.abort();
    const starting = Daemon.start({ configFile: file, logger, signal: stop.signal });
    if (when === 'as the start begins') stop.abort();
    const d = await starting;
    await d.stopped;
    assert.equal(d.status().state, 'stopping');
    assert.equal(existsSync(socket), false, 'the socket file is removed');
    // the lock is released: a second start takes it and runs
    const next = await Daemon.start({ configFile: file, logger });
    assert.equal(next.status().state, 'running');
    assert.deepEqual(next.status().jails.map((j) => j.name), ['postfix']);
    await next.stop();
    assert.equal(existsSync(socket), false);
  });
}
