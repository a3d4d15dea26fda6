# shellcheck shell=bash
# Loads every library of the local stack. Sourced by scripts/up, down, test, stack, bench.
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
for _lib in install postgres redis mongo swift nginx market; do
    # shellcheck disable=SC1090
    source "$MARKET_ROOT/scripts/lib/$_lib.sh"
done
unset _lib

# stack_up: install, build and start everything (idempotent).
stack_up() {
    mkdir -p "$MARKET_VAR" "$MARKET_RUN" "$MARKET_LOG"
    ensure_packages
    ensure_node_modules
    ensure_built
    ensure_web_built
    say "starting the $MARKET_STACK stack under $MARKET_VAR"
    pg_start
    redis_start
    mongo_start
    swift_start || die "the S3 endpoint (Swift) did not start; see the lines above"
    market_start
    nginx_start
}

# stack_down: stop exactly what stack_up started, newest first.
stack_down() {
    nginx_stop
    market_stop
    swift_stop
    mongo_stop
    redis_stop
    pg_stop
}
