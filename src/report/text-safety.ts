// Log text is attacker-controlled. On a terminal a control character can move the cursor,
// rewrite earlier lines or change the title; in HTML markup can run script. These are the two
// escapes every renderer of the report applies to text that came from a log.

/**
 * C0 and C1 controls, DEL, and the bidirectional overrides (which reorder what is shown) become
 * visible escapes (`\x1b`, `\u202e`); a backslash is doubled so an escape cannot be forged.
 */
export function escapeTerminal(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\\\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content and quoted attribute values; controls are shown as terminal escapes. */
export function escapeHtml(s: string): string {
  return escapeTerminal(s).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}
