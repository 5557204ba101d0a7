// Output of offline commands that print a line per log line (test-filter): text encoded into
// one reused Buffer and written to fd 1 with writeSync when it fills. process.stdout.write
// of joined strings cost a join, an encode into a fresh buffer per write, and, on a pipe
// whose reader is slower than a synchronous loop, a queue of every pending write held in
// memory until the loop ends (writev of tens of megabytes, and the GC of it all). A line can
// also be written in pieces (text, digits), so that it is never built as a string at all.
import { writeSync } from 'node:fs';

const SIZE = 1 << 20;
// Texts up to this length are copied by a loop over their codes while they are ASCII: for
// short pieces that beats the call into the encoder.
const SHORT = 64;

export class StdoutBytes {
  private readonly buf = Buffer.allocUnsafe(SIZE);
  private used = 0;
  /** fd 1 is non-blocking (process.stdout opened it as a stream): the rest goes that way, in order. */
  private viaStream = false;
  /** The reader has gone (EPIPE): nothing more is written. */
  private closed = false;

  /** Appends `s` as UTF-8 (the bytes Buffer.from(s, 'utf8') has). */
  write(s: string): void {
    const len = s.length;
    // At most 3 bytes per UTF-16 code unit in UTF-8.
    if (len * 3 > SIZE - this.used) {
      this.flush();
      if (len * 3 > SIZE) {
        this.send(Buffer.from(s, 'utf8'));
        return;
      }
    }
    const b = this.buf;
    let u = this.used;
    if (len > SHORT) {
      this.used = u + b.write(s, u, 'utf8');
      return;
    }
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        // The rest by the encoder: everything before was ASCII, so no surrogate pair is cut.
        u += b.write(i === 0 ? s : s.slice(i), u, 'utf8');
        break;
      }
      b[u++] = c;
    }
    this.used = u;
  }

  /** Appends one ASCII character, by its code. */
  byte(c: number): void {
    if (this.used === SIZE) this.flush();
    this.buf[this.used++] = c;
  }

  /** Appends a non-negative integer below 2^31 in decimal, zero-padded to `width` digits. */
  digits(n: number, width = 1): void {
    if (!(n >= 0 && n < 2_147_483_648 && n === Math.floor(n))) {
      this.write(String(n).padStart(width, '0'));
      return;
    }
    let d = 1;
    for (let x = n; x >= 10; x = (x / 10) | 0) d++;
    if (d < width) d = width;
    if (d > SIZE - this.used) this.flush();
    const b = this.buf;
    let u = this.used + d;
    this.used = u;
    for (let i = 0; i < d; i++) {
      b[--u] = 48 + (n % 10);
      n = (n / 10) | 0;
    }
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
