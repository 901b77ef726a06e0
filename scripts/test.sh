#!/usr/bin/env bash
# The whole test command (`npm test`): installs what the tests need on a fresh machine, then builds,
# lints and runs the suite. Safe to run again: every step is skipped when already satisfied.
#
# Tests run in two passes: unit and in-process tests in parallel, then the tests that build network
# namespaces (any test file importing test/topo) one file at a time, so that timing-sensitive
# topology tests (BFD, probes, rate limits) do not compete with CPU-heavy property tests.
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
    apt-get install -y -qq "${missing[@]}" >/dev/null
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

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mapfile -t netns < <({ find test/topo -name '*.test.ts'; grep -rl --include='*.test.ts' 'topo/index.js' test; } | sort -u)
excludes=()
for f in "${netns[@]}"; do excludes+=(--exclude "$f"); done

status=0
npx vitest run "${excludes[@]}" --reporter=default --reporter=json --outputFile.json="$out/unit.json" "$@" || status=$?
if [ ${#netns[@]} -gt 0 ]; then
  npx vitest run "${netns[@]}" --no-file-parallelism --reporter=default --reporter=json \
    --outputFile.json="$out/netns.json" "$@" || status=$?
fi
node scripts/test-summary.mjs "$out"/*.json
exit $status
