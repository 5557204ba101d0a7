// Run by store.test.ts: commits one batch, counts more failures without committing, then dies
// by SIGKILL, as a daemon would in a crash.
import { openStore } from '../../src/store/index.js';
import { Jail } from '../../src/engine/jail.js';
import { failure, policy } from '../engine/helpers.js';

const file = process.argv[2]!;
const store = openStore(file);
const jail = new Jail(policy({ maxretry: 3, findtime: 1000 }));
const position = (offset: number) => ({ sourceId: '/var/log/mail.log', path: '/var/log/mail.log', inode: 42, offset, firstLineHash: 'abc' });
for (let i = 0; i < 10; i++) jail.observe(failure(`192.0.2.${i}`, i));
store.commit({ jails: [jail.takeChanges()], positions: [position(1000)] });
for (let i = 0; i < 10; i++) jail.observe(failure(`192.0.2.${i}`, 20 + i)); // would ban nobody yet
for (let i = 0; i < 10; i++) jail.observe(failure(`192.0.2.${i}`, 40 + i)); // bans: never committed
process.kill(process.pid, 'SIGKILL');
