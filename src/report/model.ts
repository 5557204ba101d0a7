// What `pban report` computes, as plain data: the terminal, HTML and JSON renderers all read
// this and nothing else. Times are ms since the epoch (UTC), as in the control protocol's JSON.
// Every string that came from a log line (client names, user names) is attacker-controlled:
// renderers escape it, this model keeps it as it was.

/** Failures per filter kind (sasl, relay, rbl, …). */
export type KindCounts = Readonly<Record<string, number>>;

export interface AddressRow {
  readonly address: string;
  /** Its network at the report's prefix (/24, /64), CIDR. */
  readonly network: string;
  readonly failures: number;
  readonly kinds: KindCounts;
  readonly first: number;
  readonly last: number;
  /** Bans of this address (as a /32 or /128) made in the period. */
  readonly bans: number;
  /** The client name Postfix logged for it last (attacker-controlled), if any. */
  readonly name: string | null;
}

export interface NetworkRow {
  readonly network: string;
  readonly failures: number;
  /** Distinct failing addresses in it. */
  readonly addresses: number;
  readonly kinds: KindCounts;
  readonly first: number;
  readonly last: number;
  /** Bans of this network made in the period. */
  readonly bans: number;
}

export interface KindRow {
  readonly kind: string;
  readonly failures: number;
  readonly addresses: number;
  readonly networks: number;
  /** Its worst addresses, most failures first. */
  readonly top: readonly { readonly address: string; readonly failures: number }[];
}

export interface UserRow {
  /** A user name tried (the filter's `user` field: sasl_username, …). Attacker-controlled. */
  readonly user: string;
  readonly failures: number;
  readonly addresses: number;
}

export interface Timeline {
  /** Start of the first bucket. */
  readonly start: number;
  readonly bucketMs: number;
  readonly buckets: number;
  /** Failures per bucket, one series per kind (most failures first). */
  readonly series: readonly { readonly kind: string; readonly counts: readonly number[] }[];
}

export interface BansPerHour {
  /** Start of the first hour (UTC, on the hour). */
  readonly start: number;
  /** One entry per hour from start: bans of addresses, of networks, and manual ones. */
  readonly hours: readonly { readonly time: number; readonly address: number; readonly network: number; readonly manual: number }[];
}

/**
 * The hostile share of the traffic. A client is an address that opened an smtpd session
 * (`connect from name[addr]`) or that any jail's filter matched; it is hostile when a filter
 * matched it at least once in the period. Connections are smtpd `connect from` lines; a
 * connection is hostile when its client is. Null fields: not known from this source.
 */
export interface Traffic {
  readonly clients: number;
  readonly hostileClients: number;
  readonly connections: number | null;
  readonly hostileConnections: number | null;
  /** hostileClients / clients (0..1), null with no clients. */
  readonly hostileClientShare: number | null;
  /** hostileConnections / connections (0..1), null when no connection was seen. */
  readonly hostileConnectionShare: number | null;
}

/** A window that has not reached its jail's threshold yet but is at least half way there. */
export interface NearRow {
  readonly jail: string;
  /** CIDR. */
  readonly target: string;
  readonly failures: number;
  /** maxretry (address) or subnet.maxretry (network). */
  readonly threshold: number;
  readonly addresses: number;
  /** subnet.min_addresses for a network, 1 for an address. */
  readonly minAddresses: number;
  /** Failures still missing for a ban (0 when only distinct addresses are missing). */
  readonly missing: number;
}

export interface Report {
  readonly source: {
    readonly kind: 'log' | 'store' | 'daemon';
    /** Log files read (kind "log"). */
    readonly files?: readonly string[];
    /** The database read (kinds "store" and "daemon"). */
    readonly database?: string;
    readonly lines?: number;
    /** What this source cannot tell (e.g. the store keeps only the failures inside findtime). */
    readonly notes: readonly string[];
  };
  readonly generatedAt: number;
  /** The period asked for (--since/--until), null when open. */
  readonly since: number | null;
  readonly until: number | null;
  /** Oldest and newest failure in the period, null when none. */
  readonly first: number | null;
  readonly last: number | null;
  readonly prefixes: { readonly ipv4: number; readonly ipv6: number };
  readonly totals: {
    readonly failures: number;
    readonly addresses: number;
    readonly networks: number;
    /** Failures of an address that was banned already (the firewall would have dropped them). */
    readonly whileBanned: number;
    readonly bans: { readonly address: number; readonly network: number; readonly manual: number };
  };
  readonly jails: readonly { readonly name: string; readonly failures: number; readonly bans: number }[];
  readonly kinds: readonly KindRow[];
  readonly addresses: readonly AddressRow[];
  readonly networks: readonly NetworkRow[];
  readonly users: readonly UserRow[];
  readonly timeline: Timeline | null;
  readonly bansPerHour: BansPerHour | null;
  readonly traffic: Traffic;
  readonly nearThreshold: { readonly networks: readonly NearRow[]; readonly addresses: readonly NearRow[] };
}
