#!/bin/sh
# No function under src/ longer than MAX lines (120), counted from its name's line to its
# closing brace. The code style puts the name at the start of a line, then "{" and "}" at
# the start of their lines (.clang-format), which is all this needs. Lists offenders and
# fails when there is one. Usage: function-length.sh [srcdir] [max]
src=${1:-"$(dirname "$0")/../../src"}
max=${2:-120}
find "$src" -name '*.c' | sort | xargs awk -v max="$max" '
    FNR == 1 { inside = 0 }
    /^[A-Za-z_][A-Za-z0-9_]*\(/ && !inside { name = $0; sub(/\(.*/, "", name); start = FNR }
    /^\{/ && !inside && start > 0 { inside = 1 }
    /^\}/ && inside {
        n = FNR - start + 1
        if (n > max) { printf "%s:%d: %s is %d lines (at most %d)\n", FILENAME, start, name, n, max; bad = 1 }
        inside = 0; start = 0
    }
    END { exit bad }' && ok=1 || ok=0
# The summary line scripts/test counts.
[ $ok -eq 1 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
[ $ok -eq 1 ]
