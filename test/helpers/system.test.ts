// The tests' prerequisites come from one table, the setup script's, and a missing one fails
// with a message that names the script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireCommands, setupPackages, SETUP_SCRIPT } from './system.js';

test("the setup script's command → package table is read", () => {
  const table = setupPackages();
  assert.equal(table.get('nft'), 'nftables');
  assert.equal(table.get('iptables-legacy'), 'iptables');
  assert.equal(table.get('systemd-journal-remote'), 'systemd-journal-remote');
});

test('a command the setup script does not install is refused, naming the script', () => {
  assert.throws(() => requireCommands(['pban-no-such-command']), (e: Error) => e.message.includes(SETUP_SCRIPT) && e.message.includes('pban-no-such-command'));
});

test('an installed command passes', () => {
  assert.doesNotThrow(() => requireCommands(['timeout']));
});
