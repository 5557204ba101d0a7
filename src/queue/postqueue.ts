// The queue as `postqueue -j` prints it: one JSON object per message and line. Pure parsing: a
// line that is not a message (cut off by a queue that changed under postqueue, or a Postfix we do
// not know) is reported by its line number and skipped, and every other line is still used.

/** Postfix's queues, as postqueue -j names them. */
export const QUEUE_NAMES = ['incoming', 'active', 'deferred', 'hold', 'maildrop'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface QueueRecipient {
  readonly address: string;
  /** Why delivery to this recipient was deferred; undefined while it has not been tried. */
  readonly reason: string | undefined;
}

export interface QueueMessage {
  readonly id: string;
  readonly queue: QueueName;
  /** Milliseconds since the epoch. */
  readonly arrival: number;
  readonly size: number;
  /** As postqueue prints it: Postfix shows the null sender <> as "MAILER-DAEMON". */
  readonly sender: string;
  readonly recipients: readonly QueueRecipient[];
}

export interface LineProblem {
  readonly line: number;
  readonly message: string;
}

export interface ParsedQueue {
  readonly messages: QueueMessage[];
  readonly problems: LineProblem[];
}

// Queue ids are hex (short ids) or base-52-ish (long ids, enable_long_queue_ids): letters and
// digits only. Anything else is refused, so an id is always safe to hand back to postsuper.
const QUEUE_ID = /^[0-9A-Za-z]{6,32}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseRecipient(raw: unknown): QueueRecipient | string {
  if (!isObject(raw) || typeof raw['address'] !== 'string') return 'a recipient without an address';
  const reason = raw['delay_reason'];
  if (reason !== undefined && typeof reason !== 'string') return 'delay_reason is not a string';
  return { address: raw['address'], reason };
}

/** One line of postqueue -j output: a message, or what is wrong with the line. */
export function parseQueueLine(line: string): QueueMessage | string {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (!isObject(raw)) return 'not a JSON object';
  const { queue_name: queue, queue_id: id, arrival_time: arrival, message_size: size, sender, recipients } = raw;
  if (typeof id !== 'string' || !QUEUE_ID.test(id)) return 'no valid queue_id';
  if (typeof queue !== 'string' || !(QUEUE_NAMES as readonly string[]).includes(queue)) return `${id}: unknown queue_name`;
  if (typeof arrival !== 'number' || !Number.isFinite(arrival)) return `${id}: no arrival_time`;
  if (typeof sender !== 'string') return `${id}: no sender`;
  if (!Array.isArray(recipients)) return `${id}: no recipients`;
  const rcpts: QueueRecipient[] = [];
  for (const r of recipients) {
    const parsed = parseRecipient(r);
    if (typeof parsed === 'string') return `${id}: ${parsed}`;
    rcpts.push(parsed);
  }
  return { id, queue: queue as QueueName, arrival: arrival * 1000, size: typeof size === 'number' ? size : 0, sender, recipients: rcpts };
}

export function parsePostqueueJson(text: string): ParsedQueue {
  const messages: QueueMessage[] = [];
  const problems: LineProblem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const m = parseQueueLine(line);
    if (typeof m === 'string') problems.push({ line: i + 1, message: m });
    else messages.push(m);
  }
  return { messages, problems };
}

/** The null sender: Postfix's bounces, delay notices and other delivery reports. */
export function isNullSender(sender: string): boolean {
  const s = sender.trim().toLowerCase();
  return s === '' || s === '<>' || s === 'mailer-daemon' || s.startsWith('mailer-daemon@');
}

/** The domain of an address, lower case ("" without one). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase().replace(/\.$/, '');
}
