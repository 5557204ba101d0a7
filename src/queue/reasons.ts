// What a deferral reason says about the recipient's domain. Pure: one reason text in, one class
// out. The classes that mean "this domain does not take mail" (it does not exist, nothing
// answers, the mailbox does not exist, it refuses all mail) are what makes a bounce backscatter;
// a temporary refusal (greylisting, a full disk, a rate limit) is a domain that accepts mail.

export type ReasonClass =
  | 'no-such-domain' // DNS: the domain or its mail host does not resolve
  | 'unreachable' // nothing accepts the connection
  | 'no-such-user' // the mailbox does not exist
  | 'refused' // the domain refuses mail (null MX, relay denied, 5xx policy)
  | 'temporary' // a 4xx or local trouble: the domain takes mail, later
  | 'other';

/** Classes that mean the recipient's domain does not accept this mail. */
export const NOT_ACCEPTING: ReadonlySet<ReasonClass> = new Set(['no-such-domain', 'unreachable', 'no-such-user', 'refused']);

// Checked in order: the first pattern that matches decides. Postfix wraps some reasons
// ("delivery temporarily suspended: connect to …: Connection refused"), so patterns search the
// whole text rather than its start.
const RULES: readonly (readonly [ReasonClass, RegExp])[] = [
  ['no-such-domain', /host or domain name not found|name service error|unable to look up host|temporary failure in name resolution|name or service not known|host not found|domain not found|no mx (?:host|record)|nxdomain|unknown (?:mail )?domain|malformed (?:dns|mx)|domain (?:name )?does not exist/i],
  ['refused', /does not accept mail|null ?mx|nullmx|relay (?:access )?denied|relaying denied|not permitted to relay/i],
  ['no-such-user', /user unknown|unknown user|no such (?:user|mailbox|recipient)|(?:mailbox|user|recipient|address)(?: \S+)? (?:does not exist|not found|unavailable)|does not exist|invalid recipient|recipient address rejected|mailbox unavailable/i],
  ['unreachable', /connection refused|connection timed out|no route to host|network is unreachable|host is unreachable|lost connection with .* while receiving the initial server greeting|conversation with .* timed out while receiving the initial server greeting/i],
];

/** The 3-digit SMTP code a remote server answered, if the reason quotes one ("said: 550 …"). */
function quotedCode(reason: string): number | null {
  const m = /\bsaid: ([245]\d\d)[ -]/.exec(reason);
  return m ? Number(m[1]) : null;
}

export function classifyReason(reason: string | undefined): ReasonClass {
  if (reason === undefined || reason.trim() === '') return 'other';
  const code = quotedCode(reason);
  for (const [cls, re] of RULES) {
    if (!re.test(reason)) continue;
    // "450 4.1.1 Recipient address rejected: try later" is a 4xx: the mailbox may come back.
    if (cls === 'no-such-user' && code !== null && code < 500) return 'temporary';
    return cls;
  }
  if (code !== null) return code >= 500 ? 'refused' : 'temporary';
  if (/greylist|try again later|temporar|too many|rate limit|insufficient|quota|over ?quota|deferred transport|backend|suspended/i.test(reason)) return 'temporary';
  return 'other';
}

/**
 * A reason with the parts that differ per message taken out (addresses, host names in brackets,
 * DNS names, numbers), so reasons that say the same thing are counted together.
 */
export function reasonKey(reason: string): string {
  return reason
    .replace(/<[^>]*>/g, '<…>')
    .replace(/\bname=\S+/g, 'name=…')
    .replace(/\b(look up host|mail for) [^\s:]+/gi, '$1 …')
    .replace(/\S+\[[^\]]*\](?::\d+)?/g, '…')
    .replace(/\bid=\S+/g, 'id=…')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 160);
}
