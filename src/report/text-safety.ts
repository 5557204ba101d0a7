// Log text is attacker-controlled. On a terminal a control character can move the cursor,
// rewrite earlier lines or change the title; in HTML markup can run script. These are the two
// escapes every renderer of the report applies to text that came from a log: safeText
// (src/safe-text.ts) for the terminal, and escapeHtml below for the page.

import { safeText } from '../safe-text.js';

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content and quoted attribute values; controls are shown as terminal escapes. */
export function escapeHtml(s: string): string {
  return safeText(s).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}
