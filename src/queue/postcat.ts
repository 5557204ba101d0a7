// Where a queued message came from, read from `postcat -q ID…` output. Pure parsing.
//
// postcat prints each queue file as sections ("*** ENVELOPE RECORDS deferred/7/7F8DA2244F6 ***",
// "*** MESSAGE CONTENTS …", "*** HEADER EXTRACTED …", "*** MESSAGE FILE END …"). A message that
// came in over SMTP has the client in its envelope (named_attribute: client_address=…). A bounce
// that Postfix made has no client; the message it returns is attached after
// "Content-Type: message/rfc822" (or text/rfc822-headers), and the first Received: header of that
// attachment is the one this server wrote when the original came in: it names the client that
// caused the bounce. Only that first header is read; the ones below it are the sender's, and a
// forger writes whatever he likes there.

export interface MessageOrigin {
  /** The SMTP client address, or null (local submission, or nothing readable). */
  readonly client: string | null;
  /** Where `client` was read: this message's envelope, or the bounced message inside it. */
  readonly source: 'envelope' | 'bounced-message' | null;
  /** For a bounce: the queue id of the message it returns (X-Postfix-Queue-ID). */
  readonly bouncedId: string | null;
}

const SECTION = /^\*\*\* (ENVELOPE RECORDS|MESSAGE CONTENTS|HEADER EXTRACTED|MESSAGE FILE END) (?:\S+\/)?([0-9A-Za-z]+) \*\*\*$/;

/** The address in a Postfix Received: header's from clause: "from helo (name [192.0.2.1])". */
export function receivedClient(header: string): string | null {
  const m = /^Received:\s+from\s+\S+\s+\([^()[\]]*\[(?:IPv6:)?([0-9A-Fa-f.:]+)\]/i.exec(header.replace(/\s+/g, ' '));
  return m ? m[1]!.toLowerCase() : null;
}

/** The first header named `name` at or after line `from`, with its continuation lines. */
function headerAt(lines: readonly string[], from: number, name: RegExp): string | null {
  for (let i = from; i < lines.length; i++) {
    if (!name.test(lines[i]!)) continue;
    let h = lines[i]!;
    for (let j = i + 1; j < lines.length && /^[ \t]/.test(lines[j]!); j++) h += ' ' + lines[j]!.trim();
    return h;
  }
  return null;
}

function originOf(envelope: readonly string[], contents: readonly string[]): MessageOrigin {
  for (const line of envelope) {
    const m = /^named_attribute: client_address=(\S+)$/.exec(line);
    if (m) return { client: m[1]!.toLowerCase(), source: 'envelope', bouncedId: null };
  }
  const bouncedId = /^X-Postfix-Queue-ID:\s*([0-9A-Za-z]+)/im.exec(contents.join('\n'))?.[1] ?? null;
  const attached = contents.findIndex((l) => /^Content-Type:\s*(?:message\/rfc822|text\/rfc822-headers)/i.test(l));
  if (attached >= 0) {
    // The attachment's own headers start after the blank line that ends its MIME part headers.
    let start = attached + 1;
    while (start < contents.length && contents[start]!.trim() !== '') start++;
    const received = headerAt(contents, start + 1, /^Received:/i);
    const client = received === null ? null : receivedClient(received);
    return { client, source: client === null ? null : 'bounced-message', bouncedId };
  }
  return { client: null, source: null, bouncedId };
}


/** Every queue file in one postcat output, by queue id. */
export function parsePostcat(text: string): Map<string, MessageOrigin> {
  const origins = new Map<string, MessageOrigin>();
  let id: string | null = null;
  let part: string | null = null;
  let envelope: string[] = [];
  let contents: string[] = [];
  for (const line of text.split('\n')) {
    const s = SECTION.exec(line);
    if (s) {
      const [, kind, sid] = s;
      if (kind === 'ENVELOPE RECORDS') {
        id = sid!;
        envelope = [];
        contents = [];
      } else if (kind === 'MESSAGE FILE END' && id === sid) {
        origins.set(id, originOf(envelope, contents));
        id = null;
      }
      part = kind!;
      continue;
    }
    if (id === null) continue;
    if (part === 'ENVELOPE RECORDS') envelope.push(line);
    else if (part === 'MESSAGE CONTENTS') contents.push(line);
  }
  return origins;
}

/** The queue id postcat could not open ("postcat: fatal: open queue file 7F8DA2244F6: No such file or directory"). */
export function vanishedId(stderr: string): string | null {
  return /open queue file ([0-9A-Za-z]+): No such file/.exec(stderr)?.[1] ?? null;
}
