# shellcheck shell=bash
# A private PostgreSQL cluster under $MARKET_VAR/pg, run as the postgres user (PostgreSQL
# refuses root), listening on 127.0.0.1:$MARKET_PG_PORT. Sourced after common.sh.

MARKET_PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
MARKET_PG_DATA=$MARKET_VAR/pg/data
MARKET_PG_DSN="host=127.0.0.1 port=$MARKET_PG_PORT dbname=market user=market"
export MARKET_PG_DSN

_pg() { runuser -u postgres -- "$MARKET_PG_BIN/$1" "${@:2}"; }

pg_running() {
    [ -n "$MARKET_PG_BIN" ] && [ -f "$MARKET_PG_DATA/postmaster.pid" ] && _pg pg_ctl -D "$MARKET_PG_DATA" status >/dev/null 2>&1
}

pg_start() {
    [ -n "$MARKET_PG_BIN" ] || die "PostgreSQL binaries not found under /usr/lib/postgresql"
    mkdir -p "$MARKET_VAR/pg" "$MARKET_LOG" "$MARKET_RUN"
    ensure_traversable "$MARKET_VAR/pg" postgres
    chown postgres: "$MARKET_VAR/pg"
    if [ ! -f "$MARKET_PG_DATA/PG_VERSION" ]; then
        say "initdb $MARKET_PG_DATA"
        _pg initdb -D "$MARKET_PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
            >"$MARKET_LOG/initdb.log" 2>&1 || { cat "$MARKET_LOG/initdb.log" >&2; die "initdb failed"; }
        # The test stack's data is thrown away: it need not survive a crash of the machine
        # (fsync, full pages). It must survive a crash of the server, like any stack: with
        # synchronous_commit off a commit is visible (the projector applies its events) before
        # its WAL is written, and an immediate shutdown then takes back what was answered and
        # projected (found by test_faults). With fsync off, a synchronous commit is a write()
        # to the kernel, which a crash of PostgreSQL does not lose.
        local fsync=on
        [ "$MARKET_STACK" = test ] && fsync=off
        cat >>"$MARKET_PG_DATA/postgresql.conf" <<CONF
# marketd local stack
listen_addresses = '$MARKET_LISTEN_ADDR'
port = $MARKET_PG_PORT
unix_socket_directories = '$MARKET_VAR/pg'
max_connections = 200
shared_buffers = 256MB
fsync = $fsync
synchronous_commit = on
full_page_writes = $fsync
log_min_duration_statement = 500
log_line_prefix = '%m [%p] %q%u@%d '
CONF
        # scripts/cluster: the other hosts' network (clients, and the replica's base backup
        # and WAL stream).
        if [ -n "${MARKET_PG_HBA_NET:-}" ]; then
            printf 'host all all %s trust\nhost replication all %s trust\n' \
                "$MARKET_PG_HBA_NET" "$MARKET_PG_HBA_NET" >>"$MARKET_PG_DATA/pg_hba.conf"
        fi
    fi
    if pg_running; then
        return 0
    fi
    port_free "$MARKET_PG_PORT" || die "port $MARKET_PG_PORT (PostgreSQL) is taken by another process"
    touch "$MARKET_LOG/postgres.log" && chown postgres: "$MARKET_LOG/postgres.log"
    # The port, socket folder and address are given again on the command line: they override
    # postgresql.conf, so a data folder copied from another stack (or a stack started with
    # other ports) listens where this stack's variables say, never on the ports it was made with.
    _pg pg_ctl -D "$MARKET_PG_DATA" -l "$MARKET_LOG/postgres.log" -w -t 60 \
        -o "-p $MARKET_PG_PORT -k $MARKET_VAR/pg -c listen_addresses=$MARKET_LISTEN_ADDR" start >/dev/null ||
        { tail -n 20 "$MARKET_LOG/postgres.log" >&2; die "PostgreSQL did not start"; }
    head -n 1 "$MARKET_PG_DATA/postmaster.pid" >"$MARKET_RUN/postgres.pid"
    local psql=("$MARKET_PG_BIN/psql" -q -h 127.0.0.1 -p "$MARKET_PG_PORT" -U postgres -v ON_ERROR_STOP=1)
    if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'market'")" != 1 ]; then
        "${psql[@]}" -c "CREATE ROLE market LOGIN" || die "cannot create the role market"
    fi
    if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'market'")" != 1 ]; then
        "${psql[@]}" -c "CREATE DATABASE market OWNER market" || die "cannot create the database market"
    fi
}

pg_stop() {
    if pg_running; then
        _pg pg_ctl -D "$MARKET_PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -f "$MARKET_RUN/postgres.pid"
}

# An immediate shutdown: no checkpoint, every client cut off, crash recovery at the next start.
# What a crash of the server looks like to marketd (scripts/stack crash postgres).
pg_kill() {
    if pg_running; then
        _pg pg_ctl -D "$MARKET_PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -f "$MARKET_RUN/postgres.pid"
}

# psql as the application role.
pg_psql() {
    "$MARKET_PG_BIN/psql" -h 127.0.0.1 -p "$MARKET_PG_PORT" -U market -d market "$@"
}
