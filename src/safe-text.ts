// Text from outside (a log line, a sender, a recipient, a deferral reason: whatever a remote
// client wrote) made safe for a terminal, a mail body or a report: the one escape every renderer
// of such text applies. control characters, DEL, C1 controls and the Unicode characters that
// reorder or hide text (bidi overrides, line and paragraph separators) become visible escapes,
// so a hostile address can neither move the cursor, recolour the screen nor disguise itself.

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/g;

export function safeText(s: string): string {
  return s.replace(UNSAFE, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
