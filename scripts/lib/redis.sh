# shellcheck shell=bash
# Redis for sessions, rate limits and caches: loopback TCP on $MARKET_REDIS_PORT and a unix
# socket in $MARKET_RUN. Sessions must survive a restart or a crash of Redis, so the append-only
# file is on (appendfsync everysec: a kill -9 loses nothing that was answered, a power loss at
# most a second). Under memory pressure the keys nearest their expiry go first (caches and
# counters, not 30-day sessions).
# Sourced after common.sh.

MARKET_REDIS_SOCKET=$MARKET_RUN/redis.sock
export MARKET_REDIS_SOCKET

# PONG, not just an answer: while Redis loads its append-only file (a second with the 100k demo
# data) every command, PING included, is refused with LOADING, and sessions fail with 503.
_redis_serving() {
    [ "$(redis-cli -s "$MARKET_REDIS_SOCKET" ping 2>/dev/null)" = PONG ]
}

redis_start() {
    if pid_alive redis; then   # running: serving, or loading its file and soon serving
        wait_for redis 30 _redis_serving || die "Redis (pid $(cat "$MARKET_RUN/redis.pid")) runs but does not answer PING"
        return 0
    fi
    port_free "$MARKET_REDIS_PORT" || die "port $MARKET_REDIS_PORT (Redis) is taken by another process"
    mkdir -p "$MARKET_VAR/redis"
    local open=()   # bound beyond loopback (a cluster host): its network is the access control
    [ "$MARKET_LISTEN_ADDR" = 127.0.0.1 ] || open=(--protected-mode no)
    start_bg redis redis-server --bind "$MARKET_LISTEN_ADDR" --port "$MARKET_REDIS_PORT" "${open[@]}" \
        --unixsocket "$MARKET_REDIS_SOCKET" --unixsocketperm 770 --dir "$MARKET_VAR/redis" \
        --save "" --appendonly yes --appendfsync everysec --daemonize no \
        --maxmemory 512mb --maxmemory-policy volatile-ttl
    wait_for redis 30 _redis_serving ||
        { tail -n 20 "$MARKET_LOG/redis.log" >&2; die "Redis did not start"; }
}

redis_stop() {
    stop_pid redis 10
}
