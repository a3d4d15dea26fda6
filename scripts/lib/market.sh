# shellcheck shell=bash
# The marketd processes: migrations, the command and query pools, the projector, the deliverer.
# Sourced after common.sh and the store libraries (for their connection variables).

MARKET_CONFIG=$MARKET_VAR/marketd.conf
MARKET_BIN=$MARKET_ROOT/marketd
# The pools' FastCGI addresses: unix sockets here; host:port on a host of scripts/cluster.
MARKET_COMMAND_ADDR=${MARKET_COMMAND_ADDR:-unix:$MARKET_RUN/command.sock}
MARKET_QUERY_ADDR=${MARKET_QUERY_ADDR:-unix:$MARKET_RUN/query.sock}

# market_configure: write the configuration of this stack's marketd processes.
market_configure() {
    mkdir -p "$MARKET_RUN" "$MARKET_LOG"
    local workers_q=8 workers_c=4
    if [ "$MARKET_STACK" = test ]; then workers_q=4; workers_c=3; fi
    # The cursor MAC key: random once per stack, kept across restarts so cursors live on.
    local secret_file=$MARKET_VAR/cursor.secret
    if [ ! -s "$secret_file" ]; then
        (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret_file")
    fi
    # The key that seals webhook secrets (secretbox): random once per stack, kept across
    # restarts, or the stored secrets could not be opened.
    local hook_key_file=$MARKET_VAR/webhook.key
    if [ ! -s "$hook_key_file" ]; then
        (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$hook_key_file")
    fi
    # Webhook retries: the contract's schedule on the dev stack; 1 % of it on the test stack
    # (5 s → 50 ms), so retry tests run quickly.
    local backoff=100
    if [ "$MARKET_STACK" = test ]; then backoff=1; fi
    # Written beside it and renamed over it: processes started or restarted meanwhile (a
    # restart of several roles at once, a pool respawning) read the old file or the new one,
    # never a truncated one (a query pool once came up without its mongo_uri and took the
    # built-in default port).
    local tmp=$MARKET_CONFIG.$$.tmp
    cat >"$tmp" <<CONF
# Written by scripts/lib/market.sh for the $MARKET_STACK stack; regenerated on every start.
command_listen = $MARKET_COMMAND_ADDR
query_listen = $MARKET_QUERY_ADDR
command_workers = ${MARKET_COMMAND_WORKERS:-$workers_c}
query_workers = ${MARKET_QUERY_WORKERS:-$workers_q}
graceful_timeout_s = 20
run_dir = $MARKET_RUN
sql_dir = $MARKET_ROOT/sql
pg_dsn = $MARKET_PG_DSN
mongo_uri = $MARKET_MONGO_URL
mongo_db = market
redis_host = 127.0.0.1
redis_port = $MARKET_REDIS_PORT
redis_socket = $MARKET_REDIS_SOCKET
s3_endpoint = $MARKET_S3_ENDPOINT
s3_region = $MARKET_S3_REGION
s3_bucket = $MARKET_S3_BUCKET
s3_access_key = $MARKET_S3_ACCESS_KEY
s3_secret_key = $MARKET_S3_SECRET_KEY
s3_path_style = true
s3_public_base_url = https://localhost:$MARKET_HTTPS_PORT/media
s3_presign_endpoint = https://localhost:$MARKET_HTTPS_PORT
public_origin = https://localhost:$MARKET_HTTPS_PORT
cursor_secret = $(cat "$secret_file")
nginx_purge_url = http://127.0.0.1:$MARKET_HTTP_PORT/_purge
nginx_access_log = $MARKET_LOG/nginx-access.log
projector_poll_ms = 500
webhook_allow_hosts = 127.0.0.1
webhook_secret_key = $(cat "$hook_key_file")
webhook_backoff_scale_pct = ${MARKET_WEBHOOK_BACKOFF_SCALE_PCT:-$backoff}
deliverer_poll_ms = 500
http_cache_ttl_s = $MARKET_HTTP_CACHE_TTL_S
api_rate_per_s = $MARKET_API_RATE_PER_S
api_rate_burst = $MARKET_API_RATE_BURST
CONF
    # The test stack folds views every 300 ms, so test_insights polls for seconds, not tens,
    # and replaces a frozen projector process after 10 s, not 60 (test_resilience).
    if [ "$MARKET_STACK" = test ]; then printf "views_fold_ms = 300\nprojector_watchdog_s = 10\n" >>"$tmp"; fi
    mv -f "$tmp" "$MARKET_CONFIG"
}

market_migrate() {
    "$MARKET_BIN" --migrate --config "$MARKET_CONFIG" 2>"$MARKET_LOG/migrate.log" ||
        { cat "$MARKET_LOG/migrate.log" >&2; die "migrations failed"; }
}

# _market_binary_replaced NAME: the running master of NAME was started from another file than
# $MARKET_BIN is now (a rebuild since: the linker writes a new file). Its workers are forked
# from its image, so they would go on running the old code. False when it cannot be told.
_market_binary_replaced() {
    local pid running built
    pid=$(cat "$MARKET_RUN/market-$1.pid" 2>/dev/null) || return 1
    running=$(stat -Lc '%d:%i' "/proc/$pid/exe" 2>/dev/null) || return 1
    built=$(stat -Lc '%d:%i' "$MARKET_BIN" 2>/dev/null) || return 1
    [ "$running" != "$built" ]
}

# market_start_one NAME: start command, query, projector or deliverer (if not running, or
# running a binary rebuilt since: restarted then).
market_start_one() {
    local name=$1
    if pid_alive "market-$name"; then
        _market_binary_replaced "$name" || return 0
        say "restarting market-$name: $MARKET_BIN was rebuilt since it started"
        market_stop_one "$name"
    fi
    rm -f "$MARKET_RUN/$name.sock.lock"
    start_bg "market-$name" "$MARKET_BIN" --role "$name" --config "$MARKET_CONFIG"
    local addr=$MARKET_COMMAND_ADDR
    [ "$name" = query ] && addr=$MARKET_QUERY_ADDR
    case $name in
    command | query)
        wait_for "$name pool" 10 _market_listening "$addr" ||
            { tail -n 20 "$MARKET_LOG/market-$name.log" >&2; die "the $name pool did not start"; }
        # A socket another process holds passes the wait: the new master must be alive too.
        pid_alive "market-$name" ||
            { tail -n 5 "$MARKET_LOG/market-$name.log" >&2; die "the $name pool did not start (its socket is another process's?)"; }
        ;;
    esac
}

# _market_listening ADDR: a unix:PATH socket exists, or something accepts on HOST:PORT.
_market_listening() {
    case $1 in
    unix:*) test -S "${1#unix:}" ;;
    *) (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null ;;
    esac
}

market_stop_one() {
    stop_pid "market-$1" 30
}

market_start() {
    market_configure
    market_migrate
    market_start_one command
    market_start_one query
    market_start_one projector
    market_start_one deliverer
}

market_stop() {
    market_stop_one deliverer
    market_stop_one projector
    market_stop_one command
    market_stop_one query
}
