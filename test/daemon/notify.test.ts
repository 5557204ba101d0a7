// Notifications from the real daemon: the shipped sendmail action through a real Postfix
// (Postfix's own sendmail, the mail checked in the maildir it is delivered to) and the shipped
// webhook action against an HTTP server of the test on 127.0.0.1, including one that never
// answers (the daemon keeps banning). Both are norestored: a ban re-applied when the daemon
// starts again is not announced again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { saslLine, cli, cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import { must, run } from '../helpers/netns.js';
import { requireCommands } from '../helpers/system.js';
import type { BannedEntry } from '../../src/control/types.js';

let root: string;
const running: DaemonProcess[] = [];
const postfixDirs: string[] = [];

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pban-notify-test-'));
  // the postfix and nobody users must reach the queue and the maildir
  chmodSync(root, 0o755);
});
after(async () => {
  for (const d of running) await stopDaemon(d);
  for (const dir of postfixDirs) run(['postfix', '-c', dir, 'stop']);
  rmSync(root, { recursive: true, force: true });
});

interface Setup {
  config: string;
  socket: string;
  log: string;
}

function setup(name: string, actions: string): Setup {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const s = { config: path.join(dir, 'pban.toml'), socket: path.join(dir, 'pban.sock'), log: path.join(dir, 'mail.log') };
  writeFileSync(s.log, '');
  writeFileSync(s.config, `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[defaults]
maxretry = 3
bantime = "1h"
[jails.notify]
filter = "postfix"
logpath = ["mail.log"]
action = ${actions}
`);
  return s;
}

async function start(s: Setup): Promise<DaemonProcess> {
  const d = await startDaemon(s.config, s.socket);
  running.push(d);
  return d;
}

const banned = (s: Setup): string[] => cliJson<BannedEntry[]>(s.socket, ['banned']).map((b) => b.target).sort();
const burst = (s: Setup, ip: string): void => appendFileSync(s.log, [1, 2, 3].map(() => saslLine(ip)).join('\n') + '\n');

/**
 * A Postfix of the test's own: no network service at all (master.cf has only unix services),
 * mail for admin@pban.test delivered by virtual(8) into a maildir.
 */
function startPostfix(): { configDir: string; maildir: string } {
  requireCommands(['postfix', 'sendmail']);
  const dir = path.join(root, 'postfix');
  const configDir = path.join(dir, 'etc');
  const vmail = path.join(dir, 'vmail');
  for (const d of [configDir, path.join(dir, 'spool'), path.join(dir, 'log'), vmail]) mkdirSync(d, { recursive: true });
  chmodSync(dir, 0o755);
  chownSync(vmail, 65534, 65534);
  writeFileSync(path.join(configDir, 'main.cf'), `compatibility_level = 3.6
queue_directory = ${dir}/spool
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.pban.test
mydomain = pban.test
myorigin = $myhostname
mydestination =
alias_maps =
alias_database =
virtual_mailbox_domains = pban.test
virtual_mailbox_base = ${vmail}
virtual_mailbox_maps = inline:{ admin@pban.test=admin/ }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
default_transport = error:outbound delivery disabled in pban test
relay_transport = error:outbound delivery disabled in pban test
smtp_dns_support_level = disabled
biff = no
maillog_file = ${dir}/log/postfix.log
maillog_file_prefixes = ${dir}
`);
  writeFileSync(path.join(configDir, 'master.cf'), [
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'virtual unix - n n - - virtual',
    'postlog unix-dgram n - n - 1 postlogd',
    '',
  ].join('\n'));
  must(['postfix', '-c', configDir, 'start']);
  postfixDirs.push(configDir);
  return { configDir, maildir: path.join(vmail, 'admin', 'new') };
}

const mails = (maildir: string): string[] => (existsSync(maildir) ? readdirSync(maildir).sort().map((f) => readFileSync(path.join(maildir, f), 'utf8')) : []);

test('sendmail: each new ban is mailed through Postfix with its failures and kinds; a ban restored at start is not mailed again', async () => {
  const pf = startPostfix();
  const action = `sendmail[sendmail=["/usr/sbin/sendmail", "-C", "${pf.configDir}"], dest="admin@pban.test", sender="pban@pban.test"]`;
  const s = setup('sendmail', `["dry-run", '${action}']`);
  let d = await start(s);
  burst(s, '198.51.100.7');
  const [first] = await waitFor('the mail in the maildir', () => mails(pf.maildir).length > 0 && mails(pf.maildir), 30_000);
  assert.match(first!, /^Subject: \[pban\] notify: banned 198\.51\.100\.7\/32$/m);
  assert.match(first!, /^From: pban <pban@pban\.test>$/m);
  assert.match(first!, /^Return-Path: <pban@pban\.test>$/m);
  assert.match(first!, /^failures: 3$/m);
  assert.match(first!, /^kinds: {4}sasl$/m);
  assert.match(first!, /^ban: {6}address, number 1$/m);
  // and the log lines behind it, below the summary
  const lines = first!.split('The last lines that led to it:\n')[1]!.split('\n').slice(0, 3);
  assert.equal(lines.length, 3);
  for (const l of lines) assert.match(l, /\[198\.51\.100\.7\]: SASL LOGIN authentication failed/);
  assert.equal(await stopDaemon(d), 0);

  // Started again, the daemon re-applies 198.51.100.7's ban: the firewall (dry-run) gets it, no mail.
  d = await start(s);
  await waitFor('the restored ban re-applied', () => /"argv":\["ban","198\.51\.100\.7\/32"/.test(d.output()));
  burst(s, '198.51.100.8');
  await waitFor('the second mail', () => mails(pf.maildir).length >= 2, 30_000);
  await sleep(1000);
  const all = mails(pf.maildir);
  assert.equal(all.length, 2, all.map((m) => /^Subject: .*$/m.exec(m)?.[0]).join('\n'));
  assert.match(all.join('\n'), /^Subject: \[pban\] notify: banned 198\.51\.100\.8\/32$/m);
  assert.equal(await stopDaemon(d), 0);
});

test('webhook: each new ban is POSTed as JSON; a restored ban is not; a server that never answers is given up after the timeout while the daemon keeps banning', async () => {
  const posts: Record<string, unknown>[] = [];
  let hang = false;
  const hung: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      posts.push({ path: req.url, type: req.headers['content-type'], ...(JSON.parse(body) as Record<string, unknown>) });
      if (hang) hung.push(res);
      else res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const s = setup('webhook', `["dry-run", 'webhook[url="http://127.0.0.1:${port}/hook", timeout="2"]']`);
    let d = await start(s);
    burst(s, '198.51.100.7');
    await waitFor('the POST', () => posts.length > 0, 30_000);
    const { matches, ...p } = posts[0]!;
    // The lines behind the ban, one list item each, as the log has them.
    assert.ok(Array.isArray(matches) && matches.length === 3, JSON.stringify(matches));
    for (const l of matches as string[]) assert.match(l, /\[198\.51\.100\.7\]: SASL LOGIN authentication failed/);
    assert.deepEqual({ ...p, since: typeof p['since'], until: typeof p['until'] }, {
      path: '/hook', type: 'application/json', event: 'ban', jail: 'notify', target: '198.51.100.7/32', failures: 3, kinds: ['sasl'],
      ban_kind: 'address', ban_number: 1, since: 'string', until: 'string',
    });
    assert.equal(await stopDaemon(d), 0);

    d = await start(s);
    await waitFor('the restored ban re-applied', () => /"argv":\["ban","198\.51\.100\.7\/32"/.test(d.output()));
    burst(s, '198.51.100.8');
    await waitFor('the second POST', () => posts.length >= 2, 30_000);
    await sleep(1000);
    assert.deepEqual(posts.map((x) => x['target']), ['198.51.100.7/32', '198.51.100.8/32']);

    // A reload that changes the webhook's parameters starts a new runner with both active bans: no POST.
    writeFileSync(s.config, readFileSync(s.config, 'utf8').replace('/hook"', '/hook2"'));
    const r = cli(s.socket, ['reload']);
    assert.equal(r.status, 0, r.stderr);
    await waitFor('the reload', () => /daemon\.reloaded/.test(d.output()), 10_000);
    await sleep(1500);
    assert.equal(posts.length, 2);

    // The endpoint stops answering: the webhook waits 2 s per ban, the bans go on at once.
    hang = true;
    const t0 = Date.now();
    burst(s, '203.0.113.9');
    await waitFor('the hung POST', () => posts.length >= 3, 30_000);
    burst(s, '203.0.113.10');
    burst(s, '2001:db8::10');
    await waitFor('both new bans while the webhook hangs', () => {
      const b = banned(s);
      return b.includes('203.0.113.10/32') && b.includes('2001:db8::10/128');
    }, 30_000);
    assert.ok(hung.length >= 1);
    await waitFor('the webhook gave up', () => /no answer within 2s/.test(d.output()), 30_000);
    assert.ok(Date.now() - t0 >= 2000);
    assert.deepEqual(banned(s), ['198.51.100.7/32', '198.51.100.8/32', '2001:db8::10/128', '203.0.113.10/32', '203.0.113.9/32']);
    assert.equal(await stopDaemon(d), 0);
  } finally {
    for (const r of hung) r.destroy();
    server.close();
  }
});
