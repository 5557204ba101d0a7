// Lines from a stream (stdin by default): for `postfix start-fg` or `journalctl -f -o cat` piped
// into pban. A stream has no position to store: a restart starts wherever the stream is then.
import type { Readable } from 'node:stream';
import type { LogLine } from '../../events.js';
import { FILE_SOURCE_DEFAULTS } from '../file/config.js';
import { LineSplitter } from '../line-splitter.js';

export const STDIN_SOURCE = 'stdin';

export interface StreamBatch {
  readonly sourceId: string;
  /** Complete lines in stream order; `end` is the byte count of the stream up to the line's end. */
  readonly lines: readonly LogLine[];
}

export interface StreamSourceOptions {
  readonly sourceId: string;
  /** Default: process.stdin. */
  readonly stream?: Readable;
  /** Longer lines are dropped and counted. Default 64 KiB. */
  readonly maxLineBytes?: number;
}

export class StreamSource {
  readonly stats = { lines: 0, oversizedLines: 0 };

  constructor(private readonly opts: StreamSourceOptions) {}

  /**
   * Yields the complete lines of each chunk until the stream ends or `signal` aborts. The stream
   * is pulled only when the consumer asks for the next batch, so a slow consumer pauses it.
   * A last line without a newline at the end of the stream is delivered too: no more bytes can come.
   */
  async *follow(signal: AbortSignal): AsyncGenerator<StreamBatch, void, undefined> {
    const stream = this.opts.stream ?? process.stdin;
    const splitter = new LineSplitter(0, this.opts.maxLineBytes ?? FILE_SOURCE_DEFAULTS.maxLineBytes);
    const toLines = (lines: readonly { text: string; end: number }[]): LogLine[] =>
      lines.map((l) => ({ text: l.text, sourceId: this.opts.sourceId, end: l.end }));
    const onAbort = (): void => void stream.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of stream) {
        const { lines, oversized } = splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
        this.stats.oversizedLines += oversized;
        if (lines.length === 0) continue;
        this.stats.lines += lines.length;
        yield { sourceId: this.opts.sourceId, lines: toLines(lines) };
      }
      if (splitter.hasPartial && !signal.aborted) {
        const { lines } = splitter.push(Buffer.from('\n'));
        this.stats.lines += lines.length;
        if (lines.length > 0) yield { sourceId: this.opts.sourceId, lines: toLines(lines) };
      }
    } catch (err) {
      if (!signal.aborted) throw err; // destroyed by our abort: a normal stop
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
