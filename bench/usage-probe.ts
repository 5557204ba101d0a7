// Preloaded into a benchmarked child with `node --import <this file>`: when the child exits it
// writes its own peak RSS and CPU time to stderr, in one line the benchmark parses. This is the
// same getrusage() figure /usr/bin/time prints as %M, without needing that package installed.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const u = process.resourceUsage();
  writeSync(2, `\nPBAN_BENCH_USAGE maxrss_kb=${u.maxRSS} user_us=${u.userCPUTime} sys_us=${u.systemCPUTime}\n`);
});
