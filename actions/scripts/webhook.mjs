#!/usr/bin/env node
// Posts one event as JSON (actions/webhook.toml). Arguments: --url URL --timeout SECONDS
// [--check] -- name=value ...; each value is one argument and goes into the JSON as a string
// (failures and ban_number as numbers, kinds and matches (one line each) as lists, until "permanent" as null). Exit 0 on
// a 2xx answer; otherwise one line on stderr and exit 1 (2 for bad arguments).
const args = process.argv.slice(2);
const opts = { url: '', timeout: 5, check: false };
const fields = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--') {
    for (const kv of args.slice(i + 1)) {
      const eq = kv.indexOf('=');
      if (eq <= 0) fail(2, `bad field "${kv}" (expected name=value)`);
      fields[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    break;
  }
  if (a === '--check') opts.check = true;
  else if (a === '--url') opts.url = args[++i] ?? '';
  else if (a === '--timeout') opts.timeout = Number(args[++i]);
  else fail(2, `unknown argument "${a}"`);
}

function fail(code, msg) {
  process.stderr.write(`webhook: ${msg}\n`);
  process.exit(code);
}

let url;
try {
  url = new URL(opts.url);
} catch {
  fail(2, `url "${opts.url}" is not a URL (set it per jail: webhook[url="https://…"])`);
}
if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(2, `url "${opts.url}": only http and https`);
if (!(opts.timeout > 0 && opts.timeout <= 60)) fail(2, `timeout "${opts.timeout}": expected seconds between 0 and 60`);
if (opts.check) process.exit(0);

const body = { ...fields };
for (const k of ['failures', 'ban_number']) if (k in body) body[k] = Number(body[k]);
if ('kinds' in body) body.kinds = body.kinds === '' ? [] : body.kinds.split(',');
if (body.until === 'permanent') body.until = null;
if ('matches' in body) body.matches = body.matches === '' ? [] : body.matches.split('\n');

try {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'pban-webhook' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(opts.timeout * 1000),
    redirect: 'error',
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299) fail(1, `${url.origin}${url.pathname}: HTTP ${res.status}`);
} catch (e) {
  const why = e?.name === 'TimeoutError' ? `no answer within ${opts.timeout}s` : (e?.cause?.message ?? e?.message ?? String(e));
  fail(1, `${url.origin}${url.pathname}: ${why}`);
}
