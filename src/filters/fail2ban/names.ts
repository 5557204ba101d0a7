// Names fail2ban users type, and what they are in pban. One table for filters (fail2ban's
// jail and filter names) and one for actions; docs/migrating-from-fail2ban.md shows both.
import type { FilterSpec } from '../spec.js';

/** fail2ban jail/filter name → pban's native filter spec. */
export const NATIVE_FILTER_ALIASES: Readonly<Record<string, { ref: string; mode?: string }>> = {
  'postfix-sasl': { ref: 'postfix', mode: 'auth' },
  'postfix-rbl': { ref: 'postfix', mode: 'rbl' },
  'postfix-auth': { ref: 'postfix', mode: 'auth' },
  'postfix-ddos': { ref: 'postfix', mode: 'ddos' },
  'postfix-aggressive': { ref: 'postfix', mode: 'aggressive' },
  sasl: { ref: 'postfix', mode: 'auth' },
  'dovecot-aggressive': { ref: 'dovecot', mode: 'aggressive' },
};

/**
 * fail2ban jail names whose filter has no native pban equivalent → the fail2ban filter
 * (and options) fail2ban's stock jail.conf gives them. Names not listed here that are
 * fail2ban filter names map to the filter of the same name.
 */
export const FAIL2BAN_JAIL_FILTERS: Readonly<Record<string, string>> = {
  'sshd-ddos': 'sshd[mode=ddos]',
  'qmail-rbl': 'qmail',
  'openhab-auth': 'openhab',
  'apache-modsecurity': 'apache-modsecurity',
  'nginx-http-auth': 'nginx-http-auth',
  'mysqld-auth': 'mysqld-auth',
  'pam-generic': 'pam-generic',
};

/** fail2ban's stock filters (filter.d/*.conf), so a typed name can be recognised offline. */
export const FAIL2BAN_FILTER_NAMES: ReadonlySet<string> = new Set(
  (
    '3proxy apache-auth apache-badbots apache-botsearch apache-fakegooglebot apache-modsecurity apache-nohome apache-noscript apache-overflows apache-pass ' +
    'apache-shellshock assp asterisk bitwarden centreon counter-strike courier-auth courier-smtp cyrus-imap directadmin domino-smtp dovecot dropbear ' +
    'drupal-auth ejabberd-auth exim exim-spam freeswitch froxlor-auth gitlab grafana groupoffice gssftpd guacamole haproxy-http-auth horde kerio ' +
    'lighttpd-auth mongodb-auth monit monitorix mssql-auth murmur mysqld-auth nagios named-refused nginx-bad-request nginx-botsearch nginx-http-auth ' +
    'nginx-limit-req nsd openhab openwebmail oracleims pam-generic perdition php-url-fopen phpmyadmin-syslog portsentry postfix proftpd pure-ftpd qmail ' +
    'recidive roundcube-auth scanlogd screensharingd selinux-ssh sendmail-auth sendmail-reject sieve slapd softethervpn sogo-auth solid-pop3d squid ' +
    'squirrelmail sshd stunnel suhosin tine20 traefik-auth uwimap-auth vsftpd webmin-auth wuftpd xinetd-fail znc-adminlog zoneminder'
  ).split(' '),
);

/** fail2ban action name (without options) → what to write in pban instead. */
export const ACTION_EQUIVALENTS: Readonly<Record<string, string>> = {
  'iptables-multiport': 'iptables (the jail\'s "ports" gives the ports)',
  'iptables-allports': 'iptables (with no "ports" in the jail: all ports)',
  'iptables-new': 'iptables',
  'iptables-multiport-log': 'iptables',
  'iptables-xt_recent-echo': 'iptables',
  iptables: 'iptables',
  'iptables-ipset': 'ipset',
  'iptables-ipset-proto4': 'ipset',
  'iptables-ipset-proto6': 'ipset',
  'iptables-ipset-proto6-allports': 'ipset (with no "ports" in the jail: all ports)',
  'iptables-ipset-proto6-multiport': 'ipset',
  'nftables-multiport': 'nftables (the jail\'s "ports" gives the ports)',
  'nftables-allports': 'nftables (with no "ports" in the jail: all ports)',
  'nftables-common': 'nftables',
  'firewallcmd-ipset': 'nftables (firewalld runs on nftables; pban keeps its own table beside firewalld\'s)',
  'firewallcmd-multiport': 'nftables',
  'firewallcmd-allports': 'nftables (with no "ports" in the jail: all ports)',
  'firewallcmd-new': 'nftables',
  'firewallcmd-rich-rules': 'nftables',
  'firewallcmd-rich-logging': 'nftables',
  'shorewall-ipset-proto6': 'ipset',
  'dummy': 'dry-run',
  'sendmail': 'command (see the notification example in actions/README.md)',
  'sendmail-whois': 'command (see the notification example in actions/README.md)',
  'sendmail-whois-lines': 'command (see the notification example in actions/README.md)',
  'sendmail-buffered': 'command (see the notification example in actions/README.md)',
  'mail': 'command (see the notification example in actions/README.md)',
  'mail-whois': 'command (see the notification example in actions/README.md)',
  'mail-whois-lines': 'command (see the notification example in actions/README.md)',
  'sendmail-common': 'command (see the notification example in actions/README.md)',
};

/** The message for a fail2ban action name, or undefined when the name is not one. */
export function actionEquivalent(name: string): string | undefined {
  const eq = ACTION_EQUIVALENTS[name];
  if (eq === undefined) return undefined;
  return `"${name}" is a fail2ban action; pban's equivalent is ${eq}`;
}

/**
 * A filter name that is not one of pban's: a fail2ban name with a native equivalent becomes
 * that; a fail2ban filter without one becomes `fail2ban:NAME` (read from filter.d); anything
 * else is an error naming what exists.
 */
export function resolveFilterAlias(spec: FilterSpec): { spec: FilterSpec } | { error: string } {
  const native = NATIVE_FILTER_ALIASES[spec.ref];
  if (native !== undefined) {
    const mode = spec.mode ?? native.mode;
    const options = new Map(spec.options);
    if (mode !== undefined) options.set('mode', mode);
    return { spec: { ref: native.ref, isPath: false, mode, fail2ban: false, options } };
  }
  const jailFilter = FAIL2BAN_JAIL_FILTERS[spec.ref];
  if (jailFilter !== undefined || FAIL2BAN_FILTER_NAMES.has(spec.ref)) {
    const target = jailFilter ?? spec.ref;
    const m = /^([^[]+)(?:\[mode=([^\]]+)\])?$/.exec(target) as RegExpExecArray;
    const options = new Map(spec.options);
    if (m[2] !== undefined && !options.has('mode')) options.set('mode', m[2]);
    return { spec: { ref: m[1] as string, isPath: false, mode: options.get('mode'), fail2ban: true, options } };
  }
  return { error: `no filter named "${spec.ref}" (pban's own: postfix, dovecot; fail2ban's filters: fail2ban:NAME, read from the filter.d directory)` };
}
