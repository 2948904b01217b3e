#!/usr/bin/env bash
# The system programs the tests use (real Mosquitto, a NATS server cluster for many homes, Chromium, PostgreSQL, eSpeak NG, Java for
# Spark). As root with apt-get, installs the missing ones; otherwise prints a loud warning naming
# them and how to install them. `--require` makes a missing package an error (CI).
# Used by `make test` and .ci/run.
set -euo pipefail

packages=(mosquitto nats-server postgresql chromium chromium-driver fonts-noto-cjk espeak-ng openjdk-17-jre-headless openssl)
require=0
[ "${1:-}" = "--require" ] && require=1

missing=()
if command -v dpkg >/dev/null 2>&1; then
  for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
else
  # Not Debian: look for the programs themselves.
  for program in mosquitto nats-server pg_ctl chromium chromedriver espeak-ng java openssl; do
    command -v "$program" >/dev/null 2>&1 || [ -x "/usr/sbin/$program" ] || missing+=("$program")
  done
fi
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The distribution starts mosquitto as a service; tests start their own brokers on free ports.
  (systemctl stop mosquitto 2>/dev/null || service mosquitto stop 2>/dev/null || true) >/dev/null 2>&1
  exit 0
fi

cat >&2 <<EOF
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! Missing system packages: ${missing[*]}
!! The tests that need them will be SKIPPED (listed at the end of the run). Install them with:
!!   sudo apt-get install -y --no-install-recommends ${missing[*]}
!! or run this script as root: sudo scripts/system-deps.sh
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
EOF
exit "$require"
