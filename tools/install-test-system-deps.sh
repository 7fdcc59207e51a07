#!/usr/bin/env bash
# Installs the Debian packages the real-host test lab (tests/lab) needs; idempotent, fast when done.
set -euo pipefail

# Binary each package provides; a package is installed only when its binary is missing.
declare -A NEEDED=(
  [openssh-server]=/usr/sbin/sshd
  [openssh-client]=/usr/bin/ssh
  [debootstrap]=/usr/sbin/debootstrap
  [systemd-container]=/usr/bin/systemd-nspawn
  [sudo]=/usr/bin/sudo
  [iproute2]=/usr/sbin/ip
  [procps]=/usr/bin/ps
  [debian-archive-keyring]=/usr/share/keyrings/debian-archive-keyring.gpg
  [util-linux]=/usr/bin/setsid
  [sshpass]=/usr/bin/sshpass  # Ansible's password SSH (--ask-pass)
  [postgresql-15]=/usr/lib/postgresql/15/bin/initdb  # the academic-stack services' tests
  [docker-compose]=/usr/bin/docker-compose  # validates the academic stack's compose form (no engine needed)
  [nodejs]=/usr/bin/node  # renders AutomateJS's JavaScript templates on the controller
)

missing=()
for pkg in "${!NEEDED[@]}"; do
  [[ -e "${NEEDED[$pkg]}" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "install-test-system-deps: all present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-test-system-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi

# Without systemd, openssh-server's postinst would start a system sshd on 0.0.0.0:22 via
# /etc/init.d; a policy-rc.d answering 101 forbids that. Keep any policy the machine already has.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if ((own_policy)); then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "install-test-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Belt and braces: if a system sshd got started anyway, stop it; lab sshds use their own pid files.
if [[ -s /run/sshd.pid ]] && [[ "$(cat "/proc/$(cat /run/sshd.pid)/comm" 2>/dev/null)" == sshd ]]; then
  echo "install-test-system-deps: stopping the system sshd started by the install"
  kill "$(cat /run/sshd.pid)"
fi
echo "install-test-system-deps: done"
