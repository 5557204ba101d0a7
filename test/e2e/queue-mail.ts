// Entry script run inside a client namespace: `node queue-mail.js '<JSON array of MailSpec>'`.
// Sends each message over plain SMTP (one connection per message, no pipelining) and prints a
// JSON array with the queue id Postfix gave each one. The queue test uses it to fill a real
// Postfix queue with mail from chosen client addresses and chosen envelope senders (<> too).
import net from 'node:net';

export interface MailSpec {
  source: string;
  server: string;
  port: number;
  /** Envelope sender; "" is the null sender <>. */
  from: string;
  to: string[];
  subject: string;
  helo?: string;
}

const CRLF = '\r\n';

async function send(spec: MailSpec): Promise<string> {
  const socket = net.connect({ host: spec.server, port: spec.port, localAddress: spec.source });
  socket.setEncoding('latin1');
  let buffer = '';
  let closed = false;
  let wake: (() => void) | undefined;
  socket.on('data', (d: string) => {
    buffer += d;
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  socket.on('error', () => undefined);
  const reply = async (): Promise<string> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      // A reply ends at a line whose fourth character is not '-'.
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(buffer);
      if (m) {
        buffer = buffer.slice(m[0].length);
        return m[0].trimEnd();
      }
      if (closed) throw new Error('server closed the connection');
      if (Date.now() > deadline) throw new Error('no reply within 10 s');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  };
  const expect = async (line: string | null, code: number): Promise<string> => {
    if (line !== null) socket.write(line + CRLF);
    const r = await reply();
    if (Number(r.slice(0, 3)) !== code) throw new Error(`${line ?? 'greeting'}: expected ${code}, got ${r}`);
    return r;
  };
  try {
    await expect(null, 220);
    await expect(`EHLO ${spec.helo ?? 'client.example'}`, 250);
    await expect(`MAIL FROM:<${spec.from}>`, 250);
    for (const to of spec.to) await expect(`RCPT TO:<${to}>`, 250);
    await expect('DATA', 354);
    const from = spec.from === '' ? 'MAILER-DAEMON@client.example' : spec.from;
    socket.write(`From: <${from}>${CRLF}To: <${spec.to.join('>, <')}>${CRLF}Subject: ${spec.subject}${CRLF}${CRLF}pban queue test${CRLF}.${CRLF}`);
    const queued = await expect(null, 250);
    const id = /queued as ([0-9A-Za-z]+)/.exec(queued)?.[1];
    if (id === undefined) throw new Error(`no queue id in ${queued}`);
    socket.write(`QUIT${CRLF}`);
    return id;
  } finally {
    setTimeout(() => socket.destroy(), 200).unref();
  }
}

const arg = process.argv[2];
if (arg !== undefined) {
  const specs = JSON.parse(arg) as MailSpec[];
  const ids: string[] = [];
  for (const s of specs) ids.push(await send(s));
  process.stdout.write(JSON.stringify(ids));
}
