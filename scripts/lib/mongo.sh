# shellcheck shell=bash
# The MongoDB endpoint: the project's wire-protocol stand-in (scripts/mongo-standin, Node),
# in memory, on 127.0.0.1:$MARKET_MONGO_PORT. When MARKET_MONGO_URI is set to a real
# MongoDB, nothing is started and that URI is used instead. Sourced after common.sh.

# MARKET_MONGO_URI is the operator's override only; the URI in use is MARKET_MONGO_URL, so a
# script started by a test (which inherits the environment) still manages the stand-in.
if [ -n "${MARKET_MONGO_URI:-}" ]; then
    MARKET_MONGO_EXTERNAL=1
    MARKET_MONGO_URL=$MARKET_MONGO_URI
else
    MARKET_MONGO_EXTERNAL=0
    # marketd reaches the stand-in through a unix socket in $MARKET_RUN (as a mongod on the
    # same host listens on /tmp/mongodb-PORT.sock): a browse page's 17 KB reply skips loopback
    # TCP (README, "Twelfth pass"). The TCP port stays for tools and tests that name it. A
    # path longer than a socket's address allows (108 bytes) falls back to TCP.
    MARKET_MONGO_SOCKET=$MARKET_RUN/mongo.sock
    if [ ${#MARKET_MONGO_SOCKET} -le 100 ]; then
        MARKET_MONGO_URL="mongodb://${MARKET_MONGO_SOCKET//\//%2F}/?appname=marketd"
    else
        MARKET_MONGO_SOCKET=
        MARKET_MONGO_URL="mongodb://127.0.0.1:$MARKET_MONGO_PORT/?appname=marketd"
    fi
fi

mongo_start() {
    if [ "$MARKET_MONGO_EXTERNAL" = 1 ]; then
        return 0
    fi
    if pid_alive mongo; then
        return 0
    fi
    port_free "$MARKET_MONGO_PORT" || die "port $MARKET_MONGO_PORT (MongoDB stand-in) is taken by another process"
    # The young generation's limit is 8 MB a semi-space (MARKET_MONGO_SEMI_SPACE_MB), a bound
    # V8 sizes it within, not a fixed size. Against the 2 MB it had until 2026-11-30, the
    # stand-in's CPU per mix page was 11 % lower and its RSS the same (settled 3,801 against
    # 3,798 bytes per listing; README, "Twentieth pass"). One V8 helper thread instead of
    # four leaves the serving thread more of two cores while a marking runs (README,
    # "Fifteenth pass"). That helper does most of a marking: the server turns V8's marking
    # task off itself (server.js, README "Sixteenth pass").
    start_bg mongo node --max-semi-space-size="${MARKET_MONGO_SEMI_SPACE_MB:-8}" --v8-pool-size=1 "$MARKET_ROOT/scripts/mongo-standin/server.js" --host "$MARKET_LISTEN_ADDR" --port "$MARKET_MONGO_PORT" ${MARKET_MONGO_SOCKET:+--socket "$MARKET_MONGO_SOCKET"}
    { wait_for mongo 15 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MARKET_MONGO_PORT" &&
        { [ -z "$MARKET_MONGO_SOCKET" ] || wait_for mongo 5 test -S "$MARKET_MONGO_SOCKET"; }; } ||
        { tail -n 20 "$MARKET_LOG/mongo.log" >&2; die "the MongoDB stand-in did not start"; }
}

mongo_stop() {
    [ "$MARKET_MONGO_EXTERNAL" = 1 ] && return 0
    stop_pid mongo 10
}
