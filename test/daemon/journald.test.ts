// `pban start` on the systemd journal: a dry-run jail with journalmatch bans an address whose SASL
// failures are in a real journal (written by systemd-journal-remote, read by the real journalctl),
// ignores the same text from another unit, and resumes from its stored cursor after a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import type { BannedEntry, DaemonStatus } from '../../src/control/types.js';
import { ensureJournalRemote, smtpd, writeJournal, type TestEntry } from '../sources/journal-writer.js';

let root: string;
const running: DaemonProcess[] = [];

before(() => {
  ensureJournalRemote();
  root = mkdtempSync(path.join(os.tmpdir(), 'pban-daemon-journald-'));
});
after(async () => {
  for (const d of running) await stopDaemon(d);
  rmSync(root, { recursive: true, force: true });
});

const sasl = (ip: string, extra: Partial<TestEntry> = {}): TestEntry =>
  smtpd(`warning: unknown[${ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=bob`, { identifier: 'postfix/submission/smtpd', ...extra });

test('a journalmatch jail bans from the journal, only for its unit, and resumes after a restart', async () => {
  const dir = path.join(root, 'basic');
  const journalDir = path.join(dir, 'journal');
  mkdirSync(journalDir, { recursive: true });
  const journal = path.join(journalDir, 'remote.journal');
  const config = path.join(dir, 'pban.toml');
  const socket = path.join(dir, 'pban.sock');
  writeFileSync(config, `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[defaults]
findtime = "10m"
maxretry = 3
bantime = "1h"
action = ["dry-run"]
[jails.postfix]
filter = "postfix[mode=aggressive]"
journalmatch = ["_SYSTEMD_UNIT=postfix@-.service"]
journal_directory = "journal"
`);
  // Written before the first start: the daemon starts at the end, so these never count.
  writeJournal(journal, [sasl('198.51.100.7'), sasl('198.51.100.7')]);
  const banned = (): BannedEntry[] => cliJson<BannedEntry[]>(socket, ['banned']);

  let d = await startDaemon(config, socket);
  running.push(d);
  // The same text from a unit that is not Postfix (anyone can pick an identifier) never counts.
  writeJournal(journal, [sasl('203.0.113.9', { unit: 'evil.service' }), sasl('203.0.113.9', { unit: 'evil.service' }), sasl('203.0.113.9', { unit: 'evil.service' })]);
  writeJournal(journal, [sasl('198.51.100.7')]);
  await sleep(500);
  assert.deepEqual(banned(), [], 'two old failures plus one new must not ban');
  writeJournal(journal, [sasl('198.51.100.7'), sasl('198.51.100.7')]);
  await waitFor('a ban', () => banned().length > 0);
  assert.deepEqual(banned().map((b) => [b.target, b.jail, b.failures]), [['198.51.100.7/32', 'postfix', 3]]);
  const st = cliJson<DaemonStatus>(socket, ['status']);
  assert.equal(st.linesRead, 3);
  assert.deepEqual(st.jails[0]!.sources, ['journal:' + journalDir + ' _SYSTEMD_UNIT=postfix@-.service']);
  await waitFor('the ban logged', () => /"msg":"ban\.added"/.test(d.output()));

  // Down for a while: entries written meanwhile are read after the restart, from the stored cursor.
  assert.equal(await stopDaemon(d), 0);
  writeJournal(journal, [sasl('198.51.100.8'), sasl('198.51.100.8')]);
  d = await startDaemon(config, socket);
  running.push(d);
  writeJournal(journal, [sasl('198.51.100.8')]);
  await waitFor('the second ban', () => banned().some((b) => b.target === '198.51.100.8/32'));
  const b8 = banned().find((b) => b.target === '198.51.100.8/32')!;
  assert.equal(b8.failures, 3);
  // Nothing was read twice: the first address's window holds its 3 failures, no more.
  assert.equal(cliJson<DaemonStatus>(socket, ['status']).linesRead, 3);
  assert.equal(await stopDaemon(d), 0);
});
