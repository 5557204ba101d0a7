// packaging/grafana-dashboard.json: every query parses as PromQL (promtool check rules) and names
// only metrics that pban exposes, so the dashboard cannot silently drift from the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DaemonMetrics } from '../../src/metrics/index.js';
import { ManualClock } from '../../src/clock.js';
import { target } from '../../src/cidr.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
}

const dashboard = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'packaging/grafana-dashboard.json'), 'utf8')) as Dashboard;

/** Every PromQL expression in the dashboard, Grafana's variables replaced by what they expand to. */
function expressions(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of dashboard.panels) for (const t of p.targets ?? []) out.push({ where: p.title, expr: t.expr });
  for (const v of dashboard.templating.list) {
    const q = typeof v.query === 'string' ? undefined : v.query?.query;
    const m = q === undefined ? null : /^label_values\((.*), *\w+\)$/.exec(q);
    if (m) out.push({ where: `variable ${v.name}`, expr: m[1]! });
  }
  return out.map(({ where, expr }) => ({
    where,
    expr: expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '6h').replaceAll('$instance', '.*').replaceAll('$jail', '.*'),
  }));
}

test('the dashboard has panels with queries and a data source variable', () => {
  assert.ok(dashboard.panels.filter((p) => p.type !== 'row').length >= 15);
  assert.ok(dashboard.templating.list.some((v) => v.name === 'datasource'));
  assert.ok(expressions().length >= 25);
});

test('every metric the dashboard queries is one pban exposes', async () => {
  const m = new DaemonMetrics({ clock: new ManualClock(0), view: { jails: () => [{ name: 'postfix', bannedAddresses: 1, bannedNetworks: 0, actions: [{ name: 'nftables', healthy: true }] }] } });
  m.enableProcessMetrics();
  // Touch every labelled series so it is printed.
  m.batch('/var/log/mail.log', 1, 1, { sourceId: 'file:/nonexistent', path: '/nonexistent', inode: 1, offset: 0, firstLineHash: '' });
  m.failure('postfix', 'sasl');
  m.banned({ target: target('198.51.100.7'), jail: 'postfix', kind: 'address', created: 0, until: null, failures: 3, banNumber: 1 });
  m.lifted({ target: target('198.51.100.7'), jail: 'postfix', kind: 'address', created: 0, until: null, failures: 3, banNumber: 1 }, 'expired');
  m.action('postfix', 'nftables', 'ban', 0, Promise.resolve(true));
  m.actionFailed('postfix', 'nftables', 'ban');
  m.commit(() => undefined);
  await new Promise((r) => setImmediate(r));
  // Declared metrics (# TYPE), with a histogram's series: GC durations appear only after a GC.
  const exposed = new Set<string>();
  for (const [, name, type] of (await m.text()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    exposed.add(name!);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exposed.add(name! + s);
  }
  for (const { where, expr } of expressions()) {
    for (const name of expr.match(/\b(?:pban|process|nodejs)_\w+/g) ?? []) {
      assert.ok(exposed.has(name), `${where}: ${name} is not exposed (exposed: ${[...exposed].filter((n) => n.startsWith('pban_')).join(', ')})`);
    }
  }
});

test('every query parses as PromQL (promtool check rules)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-dashboard-'));
  try {
    const rules = path.join(dir, 'rules.yml');
    const yaml = ['groups:', '  - name: dashboard', '    rules:'];
    expressions().forEach(({ expr }, i) => yaml.push(`      - record: pban:dashboard_query_${i}`, `        expr: ${JSON.stringify(expr)}`));
    writeFileSync(rules, yaml.join('\n') + '\n');
    const r = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
    assert.equal(r.error, undefined, 'promtool must be installed (scripts/setup-test-env.sh installs the prometheus package)');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${expressions().length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
