// Entry script run inside an attacker namespace: `node attack-runner.js '<JSON array of AttackSpec>'`.
// Runs all clients concurrently and prints one JSON array of AttackResult on stdout.
import { runAttack, type AttackSpec } from './attacks.js';

const arg = process.argv[2];
if (arg === undefined) {
  process.stderr.write('usage: attack-runner.js <JSON array of attack specs>\n');
  process.exitCode = 2;
} else {
  const specs = JSON.parse(arg) as AttackSpec[];
  const results = await Promise.all(specs.map((s) => runAttack(s)));
  process.stdout.write(JSON.stringify(results));
}
