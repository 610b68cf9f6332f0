#!/usr/bin/env bash
# Install the real components the cluster tests run against, from Debian's packages:
# PostgreSQL (server + client) and a one-node Ceph (mon, mgr, osd, radosgw).
# Idempotent and quick when everything is already there (no apt-get call at all then).
# Usage: bash scripts/services/install.sh [postgres] [ceph]     (default: both)
# Exit status 0 when everything asked for is installed; 1 otherwise (message on stderr).
set -euo pipefail
want=("$@")
[ ${#want[@]} -eq 0 ] && want=(postgres ceph)

pkgs=()
for w in "${want[@]}"; do
  case "$w" in
    postgres) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || pkgs+=(postgresql) ;;
    ceph)
      for b in ceph-mon ceph-mgr ceph-osd radosgw radosgw-admin ceph; do
        if ! command -v "$b" >/dev/null 2>&1; then
          pkgs+=(ceph-mon ceph-mgr ceph-osd radosgw ceph-common); break
        fi
      done ;;
    *) echo "install.sh: unknown component $w" >&2; exit 2 ;;
  esac
done
[ ${#pkgs[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install.sh: apt-get not available; cannot install ${pkgs[*]}" >&2; exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "install.sh: need root (or passwordless sudo) to install ${pkgs[*]}" >&2; exit 1
  fi
fi
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
# nothing may auto-start: the tests start private instances themselves
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
echo "install.sh: installed ${pkgs[*]} in $(( $(date +%s) - start )) s" >&2
