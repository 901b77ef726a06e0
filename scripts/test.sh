#!/usr/bin/env bash
# The whole test command (`npm test`): installs what the tests need on a fresh machine, then builds,
# lints and runs the suite. Safe to run again: every step is skipped when already satisfied.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages used by the tests: tshark (independent decoder), iproute2/nftables (topologies),
# frr, bird2 and gobgpd (interop peers), iputils-ping (traffic checks).
debs=(iproute2 nftables iputils-ping tshark frr bird2 gobgpd procps util-linux)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test.sh: not root or no apt-get; tests needing ${missing[*]} will be skipped"
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

npx tsc -p tsconfig.json
npx eslint .
npx prettier --check .
npx vitest run "$@"
