// The queue seen through pban: each message with its origin and whether it is backscatter, and
// the summary counts. Pure: the queue, the origins and the hostile addresses come in as data.
import { contains, parseTarget } from '../cidr.js';
import type { Target } from '../events.js';
import { domainOf, isNullSender, type QueueMessage, type QueueName, QUEUE_NAMES } from './postqueue.js';
import type { MessageOrigin } from './postcat.js';
import { classifyReason, NOT_ACCEPTING, reasonKey, type ReasonClass } from './reasons.js';

/** What pban knows of attacking clients: its active bans, and addresses that failed in a log. */
export interface Hostiles {
  readonly banned: readonly Target[];
  /** Address (canonical text) → failures the configured filters found in the log. */
  readonly failed: ReadonlyMap<string, number>;
}

export const NO_HOSTILES: Hostiles = { banned: [], failed: new Map() };

/** Why a message counts as backscatter. */
export type BackscatterWhy =
  | 'bounce-to-dead-domain' // null sender, and the recipient's domain does not take mail
  | 'banned-client' // entered through (or bounces a message from) a client pban bans
  | 'failed-client'; // … a client that failed in the log

export interface AnalysedRecipient {
  readonly address: string;
  readonly domain: string;
  readonly reason: string | undefined;
  readonly reasonClass: ReasonClass | null;
}

export interface AnalysedMessage {
  readonly id: string;
  readonly queue: QueueName;
  readonly arrival: number;
  readonly size: number;
  readonly sender: string;
  readonly nullSender: boolean;
  readonly recipients: readonly AnalysedRecipient[];
  readonly client: string | null;
  readonly clientSource: MessageOrigin['source'];
  readonly backscatter: readonly BackscatterWhy[];
}

function clientTarget(client: string | null): Target | null {
  if (client === null) return null;
  const t = parseTarget(client);
  return 'error' in t ? null : t;
}

export function analyseMessage(m: QueueMessage, origin: MessageOrigin | undefined, hostiles: Hostiles): AnalysedMessage {
  const nullSender = isNullSender(m.sender);
  const recipients = m.recipients.map((r) => ({
    address: r.address,
    domain: domainOf(r.address),
    reason: r.reason,
    reasonClass: r.reason === undefined ? null : classifyReason(r.reason),
  }));
  const why: BackscatterWhy[] = [];
  // Every recipient that was tried was refused for good: one that accepts mail keeps it legitimate.
  const tried = recipients.filter((r) => r.reasonClass !== null);
  if (nullSender && tried.length > 0 && tried.every((r) => NOT_ACCEPTING.has(r.reasonClass!))) why.push('bounce-to-dead-domain');
  const client = origin?.client ?? null;
  const ct = clientTarget(client);
  if (ct !== null) {
    if (hostiles.banned.some((b) => b.family === ct.family && contains(b, ct))) why.push('banned-client');
    if (hostiles.failed.has(ct.addr)) why.push('failed-client');
  }
  return {
    id: m.id,
    queue: m.queue,
    arrival: m.arrival,
    size: m.size,
    sender: m.sender,
    nullSender,
    recipients,
    client,
    clientSource: origin?.source ?? null,
    backscatter: why,
  };
}

export interface Count {
  readonly key: string;
  readonly count: number;
}

export interface ReasonCount {
  readonly class: ReasonClass;
  readonly reason: string;
  readonly count: number;
}

export interface QueueSummary {
  readonly total: number;
  readonly queues: Readonly<Record<QueueName, number>>;
  /** Null-sender messages are counted under "<>". */
  readonly senders: readonly Count[];
  readonly recipientDomains: readonly Count[];
  readonly ages: readonly Count[];
  readonly reasons: readonly ReasonCount[];
  readonly clients: readonly Count[];
  readonly backscatter: { readonly total: number; readonly why: Readonly<Record<BackscatterWhy, number>> };
}

export const AGE_BUCKETS: readonly (readonly [label: string, maxMs: number])[] = [
  ['< 1h', 3_600_000],
  ['1h-6h', 6 * 3_600_000],
  ['6h-1d', 86_400_000],
  ['1d-3d', 3 * 86_400_000],
  ['>= 3d', Infinity],
];

export function ageBucket(ageMs: number): string {
  for (const [label, max] of AGE_BUCKETS) if (ageMs < max) return label;
  return AGE_BUCKETS[AGE_BUCKETS.length - 1]![0];
}

function counted(map: Map<string, number>): Count[] {
  return [...map].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
}

const bump = (map: Map<string, number>, key: string): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};

export function summarise(messages: readonly AnalysedMessage[], now: number): QueueSummary {
  const queues = Object.fromEntries(QUEUE_NAMES.map((q) => [q, 0])) as Record<QueueName, number>;
  const senders = new Map<string, number>();
  const domains = new Map<string, number>();
  const ages = new Map<string, number>(AGE_BUCKETS.map(([l]) => [l, 0]));
  const reasons = new Map<string, { class: ReasonClass; reason: string; count: number }>();
  const clients = new Map<string, number>();
  const why: Record<BackscatterWhy, number> = { 'bounce-to-dead-domain': 0, 'banned-client': 0, 'failed-client': 0 };
  let backscatter = 0;
  for (const m of messages) {
    queues[m.queue]++;
    bump(senders, m.nullSender ? '<>' : m.sender.toLowerCase());
    // A message counts once per domain, however many of its recipients are there.
    for (const d of new Set(m.recipients.map((r) => r.domain))) bump(domains, d);
    bump(ages, ageBucket(now - m.arrival));
    for (const r of m.recipients) {
      if (r.reason === undefined) continue;
      const key = `${r.reasonClass}\u0000${reasonKey(r.reason)}`;
      const e = reasons.get(key) ?? { class: r.reasonClass!, reason: reasonKey(r.reason), count: 0 };
      e.count++;
      reasons.set(key, e);
    }
    if (m.client !== null) bump(clients, m.client);
    if (m.backscatter.length > 0) backscatter++;
    for (const w of m.backscatter) why[w]++;
  }
  return {
    total: messages.length,
    queues,
    senders: counted(senders),
    recipientDomains: counted(domains),
    ages: AGE_BUCKETS.map(([l]) => ({ key: l, count: ages.get(l)! })),
    reasons: [...reasons.values()].sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1)),
    clients: counted(clients),
    backscatter: { total: backscatter, why },
  };
}
