#!/usr/bin/env bash
# install-peers.sh — install the real servers used by spool's peer tests
# (internal/peers): nginx, squid, dante (danted), openssl; and h2load
# (nghttp2-client), the HTTP/2 ceiling of the bench module's -h2 cells.
#
# Idempotent and non-interactive. It installs binaries only: services that a
# package would auto-start are kept from starting (a temporary policy-rc.d) and
# stopped/disabled afterwards, so nothing is left listening on a port. The Go
# tests start their own instances on 127.0.0.1 with configs in t.TempDir().
#
# Also creates the system user used by the SOCKS5 username-auth tests:
#   user "spoolsocks", password "spoolsocks-pass", no home, no login shell.
# (dante's "socksmethod: username" checks system passwords.)
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export PATH="$PATH:/usr/sbin:/sbin" # daemons live there; not on every user's PATH
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi

# pick the first package name that the archive has, e.g. squid vs squid-openssl.
pick() {
  for p in "$@"; do
    # capture first: grep -q closing the pipe early trips pipefail.
    local pol
    pol="$(apt-cache policy "$p" 2>/dev/null || true)"
    if [[ "$pol" =~ Candidate:\ [0-9] ]]; then
      echo "$p"; return 0
    fi
  done
  return 1
}

have_all() {
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || return 1
  command -v squid >/dev/null 2>&1 || [ -x /usr/sbin/squid ] || return 1
  command -v danted >/dev/null 2>&1 || [ -x /usr/sbin/danted ] || return 1
  command -v openssl >/dev/null 2>&1 || return 1
  command -v h2load >/dev/null 2>&1 || return 1
}

if ! have_all; then
  # Keep maintainer scripts from starting services during the install. If a
  # policy-rc.d already exists (e.g. containers ship one), leave it alone.
  created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  trap 'if [ -n "$created_policy" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi' EXIT

  $SUDO apt-get update -qq
  pkgs=()
  for alts in "nginx nginx-core nginx-light" "squid squid-openssl" "dante-server" "openssl" "nghttp2-client"; do
    # shellcheck disable=SC2086 # alts is a word list on purpose
    if ! p="$(pick $alts)"; then
      echo "install-peers: none of [$alts] is in the package archive" >&2
      exit 1
    fi
    pkgs+=("$p")
  done
  $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
fi

# Stop and disable whatever got started (there may be no systemd: PID 1 is
# often not init in containers, so try both and ignore failures).
for svc in nginx squid danted; do
  if [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
  if command -v update-rc.d >/dev/null 2>&1; then
    $SUDO update-rc.d "$svc" disable >/dev/null 2>&1 || true
  fi
done

# SOCKS username-auth user (idempotent).
if ! id spoolsocks >/dev/null 2>&1; then
  $SUDO useradd -M -r -s /usr/sbin/nologin spoolsocks
fi
echo 'spoolsocks:spoolsocks-pass' | $SUDO chpasswd

first_line() { "$@" 2>&1 | sed -n '1s/^/  /p' || true; }
echo "peers installed:"
first_line nginx -v
first_line squid -v
first_line danted -v
first_line openssl version
first_line h2load --version
