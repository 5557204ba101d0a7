// `[pban] metrics = "127.0.0.1:9464"`: the one owner of the listen address syntax. The config
// checks it with this parser and the metrics server listens on what it returns, so the two can
// never disagree about what an address means.
import { parseTarget } from '../cidr.js';

export interface ListenAddress {
  /** A literal address (never a host name): exactly what the server binds. */
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:9464`, `[::1]:9464`: for messages. */
  readonly text: string;
}

const FORM = 'expected ADDRESS:PORT like "127.0.0.1:9464" or "[::1]:9464"';

/**
 * Parses `IPv4:PORT` or `[IPv6]:PORT`. Host names are refused: a name may resolve to several
 * addresses (or to a public one), and only the configured address may be listened on.
 */
export function parseListenAddress(text: string): ListenAddress | { readonly error: string } {
  const bad = (why: string): { error: string } => ({ error: `invalid listen address ${JSON.stringify(text)}: ${why}` });
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(text.trim());
  if (m === null) return bad(text.includes(':') && !text.includes('[') && text.indexOf(':') !== text.lastIndexOf(':') ? `write an IPv6 address in brackets, ${FORM}` : FORM);
  const hostText = (m[1] ?? m[2] ?? '').trim();
  const portText = (m[3] ?? '').trim();
  if (hostText === '') return bad(`missing address (${FORM}; 0.0.0.0 listens on every interface)`);
  if (hostText.includes('/')) return bad('a listen address is one address, not a network');
  const t = parseTarget(hostText);
  if ('error' in t) return bad(t.detail);
  if (m[1] !== undefined && !hostText.includes(':')) return bad('only IPv6 addresses go in brackets');
  if (!/^[1-9]\d{0,4}$/.test(portText) || Number(portText) > 65535) return bad(`port must be a number 1-65535, got ${JSON.stringify(portText)}`);
  const port = Number(portText);
  return { host: t.addr, port, text: t.family === 6 ? `[${t.addr}]:${port}` : `${t.addr}:${port}` };
}
