#!/usr/bin/env bash
# scripts/up (market_start_one) restarts a running marketd master whose binary was rebuilt
# since it started: workers are forked from the master's image, so they would keep running
# the old code. This checks how it tells (_market_binary_replaced, scripts/lib/market.sh) on
# a stand-in process that waits for good (a copy of tail(1) following /dev/null) run from a
# file that is then replaced, as the linker replaces marketd. Usage: stale-master.sh
set -u
# shellcheck source-path=SCRIPTDIR/../..
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
export MARKET_STACK=dev MARKET_VAR=$tmp/var
# shellcheck source=scripts/lib/common.sh
source "$root/scripts/lib/common.sh"
# shellcheck source=scripts/lib/market.sh
source "$root/scripts/lib/market.sh"
MARKET_RUN=$tmp/var/run
MARKET_BIN=$tmp/marketd
mkdir -p "$MARKET_RUN"
cp "$(command -v tail)" "$MARKET_BIN"
"$MARKET_BIN" -f /dev/null &
pid=$!
echo "$pid" >"$MARKET_RUN/market-query.pid"
bad=0
check() { # WANT DESCRIPTION: what _market_binary_replaced query should say (replaced or kept)
    local got=kept
    _market_binary_replaced query && got=replaced
    [ "$got" = "$1" ] || { echo "FAIL: $2 (said $got)"; bad=1; }
}
check kept "the master runs the binary as built"
cp "$(command -v tail)" "$MARKET_BIN.new" && mv -f "$MARKET_BIN.new" "$MARKET_BIN"
check replaced "the binary was rebuilt since the master started"
echo 12345678 >"$MARKET_RUN/market-deliverer.pid"
_market_binary_replaced deliverer && { echo "FAIL: a process that is gone counts as replaced"; bad=1; }
# The summary line scripts/test counts.
[ $bad -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
[ $bad -eq 0 ]
