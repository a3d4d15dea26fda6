#!/bin/sh
# Only src/store/ talks to a driver: no call of mongoc_*, PQ*, redis[A-Z]* or curl_* and no
# driver header (mongoc, libpq, hiredis, curl) outside it. Domain code still builds its
# queries (bson and SQL text; libbson is not a driver). Lists offenders and fails when there
# is one. Usage: store-boundary.sh [srcdir]
src=${1:-"$(dirname "$0")/../../src"}
bad=0
calls=$(grep -rnE '\b(mongoc_[a-z_]+|PQ[a-zA-Z]+|redis[A-Z][a-zA-Z]+|curl_[a-z_]+)[[:space:]]*\(' "$src" \
            --include='*.c' --include='*.h' | grep -v "^$src/store/")
if [ -n "$calls" ]; then
    echo "driver calls outside src/store/ (add a verb to src/store/ and call it):"
    echo "$calls"
    bad=1
fi
headers=$(grep -rnE '#[[:space:]]*include[[:space:]]*<(mongoc/|mongoc\.h|libpq-fe\.h|hiredis/|curl/)' "$src" \
              --include='*.c' --include='*.h' | grep -v "^$src/store/")
if [ -n "$headers" ]; then
    echo "driver headers outside src/store/:"
    echo "$headers"
    bad=1
fi
# The summary line scripts/test counts.
[ $bad -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $bad
