// Output of offline commands that print a line per log line (test-filter): text encoded into
// one reused Buffer and written to fd 1 with writeSync when it fills. process.stdout.write
// of joined strings cost a join, an encode into a fresh buffer per write, and, on a pipe
// whose reader is slower than a synchronous loop, a queue of every pending write held in
// memory until the loop ends (writev of tens of megabytes, and the GC of it all).
import { writeSync } from 'node:fs';

const SIZE = 1 << 20;

export class StdoutBytes {
  private readonly buf = Buffer.allocUnsafe(SIZE);
  private used = 0;
  /** fd 1 is non-blocking (process.stdout opened it as a stream): the rest goes that way, in order. */
  private viaStream = false;
  /** The reader has gone (EPIPE): nothing more is written. */
  private closed = false;

  write(s: string): void {
    // At most 3 bytes per UTF-16 code unit in UTF-8.
    if (s.length * 3 > SIZE - this.used) {
      this.flush();
      if (s.length * 3 > SIZE) {
        this.send(Buffer.from(s, 'utf8'));
        return;
      }
    }
    this.used += this.buf.write(s, this.used, 'utf8');
  }

  flush(): void {
    if (this.used === 0) return;
    this.send(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private send(bytes: Buffer): void {
    if (this.closed) return;
    if (this.viaStream) {
      process.stdout.write(Buffer.from(bytes));
      return;
    }
    let off = 0;
    while (off < bytes.length) {
      try {
        off += writeSync(1, bytes, off, bytes.length - off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          this.viaStream = true;
          process.stdout.write(Buffer.from(bytes.subarray(off)));
          return;
        }
        if (code === 'EPIPE') {
          this.closed = true;
          return;
        }
        throw err;
      }
    }
  }
}
