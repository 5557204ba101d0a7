// Targets for people: an address alone, a network in CIDR. Kept apart from target parsing so
// that printing a list loads no parser.

/** "192.0.2.1/32" → "192.0.2.1", "2001:db8::1/128" → "2001:db8::1", networks unchanged. */
export function displayCidr(cidr: string): string {
  if (cidr.endsWith('/32') && !cidr.includes(':')) return cidr.slice(0, -3);
  if (cidr.endsWith('/128')) return cidr.slice(0, -4);
  return cidr;
}
