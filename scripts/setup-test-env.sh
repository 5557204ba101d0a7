#!/usr/bin/env bash
# The test suite's one setup step (npm test's pretest; .ci/run calls npm test).
# Installs, non-interactively and only when missing, every Debian package the tests drive for
# real, and fetches fail2ban's package (downloaded and unpacked, never installed) for its sample
# logs. Touches nothing else: no service is started, no firewall rule is written.
set -euo pipefail

# command → package: the command proves the package is usable. Tests check commands through
# this table (test/helpers/system.ts reads it) and never install anything themselves.
declare -A NEED=(
  [nft]=nftables
  [iptables]=iptables
  [iptables-nft]=iptables
  [iptables-legacy]=iptables
  [ipset]=ipset
  [ip]=iproute2
  [ss]=iproute2
  [timeout]=coreutils
  [postfix]=postfix
  [sendmail]=postfix
  [dovecot]=dovecot-core
  [nc]=netcat-openbsd
  [logrotate]=logrotate
  [systemd-journal-remote]=systemd-journal-remote
  [journalctl]=systemd
  [systemd-analyze]=systemd
  [man]=man-db
  [zsh]=zsh
  [fish]=fish
  [g++]=g++
  [make]=make
  [python3]=python3
  [dpkg-deb]=dpkg
  [promtool]=prometheus
  [faketime]=faketime
  [chromium]=chromium
)

have() {
  local d
  for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin /lib/systemd; do
    [ -x "$d/$1" ] && return 0
  done
  return 1
}

missing=()
for cmd in "${!NEED[@]}"; do have "$cmd" || missing+=("${NEED[$cmd]}"); done
[ -e /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "pban tests: missing packages: ${missing[*]}; run as root (the suite needs root for network namespaces) or use 'npm run test:unit'" >&2
    exit 1
  fi
  echo "pban tests: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Packages' postinst scripts must not start Postfix or Dovecot in the root namespace.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# pban tests: never start services while installing\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  trap '[ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  printf '%s\n' 'postfix postfix/main_mailer_type select No configuration' \
    'postfix postfix/mailname string pban-test.example' | debconf-set-selections
  apt_retry() {
    local i
    for i in 1 2 3 4 5; do
      if "$@"; then return 0; fi
      echo "pban tests: apt busy or failed (try $i), retrying in 10 s" >&2
      sleep 10
    done
    "$@"
  }
  apt_retry apt-get -o DPkg::Lock::Timeout=120 update -qq
  apt_retry apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
  still=()
  for cmd in "${!NEED[@]}"; do have "$cmd" || still+=("$cmd"); done
  if [ "${#still[@]}" -gt 0 ]; then
    echo "pban tests: still missing after apt-get install: ${still[*]}" >&2
    exit 1
  fi
fi

# fail2ban's annotated sample logs and filter files, for the conformance tests.
cache="${PBAN_FAIL2BAN_CACHE:-${TMPDIR:-/tmp}/pban-fail2ban-samples}"
if [ ! -d "$cache/root/usr/lib/python3/dist-packages/fail2ban/tests/files/logs" ]; then
  mkdir -p "$cache"
  ( cd "$cache"
    ls fail2ban_*.deb >/dev/null 2>&1 || apt-get download fail2ban >/dev/null 2>&1 || { apt-get update -qq && apt-get download fail2ban >/dev/null; }
    dpkg-deb -x fail2ban_*.deb root )
fi
