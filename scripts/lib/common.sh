# shellcheck shell=bash
# Shared settings and helpers for scripts/up, scripts/down, scripts/test, scripts/bench, scripts/demo.
# Sourced, never run. Everything a stack writes lives under $MARKET_VAR.
#
# Two stacks can run side by side: the development stack (MARKET_STACK=dev, scripts/up)
# and the test stack (MARKET_STACK=test, scripts/test), each with its own ports and var folder.

set -o pipefail

MARKET_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MARKET_STACK=${MARKET_STACK:-dev}

case "$MARKET_STACK" in
dev)
    : "${MARKET_VAR:=$MARKET_ROOT/var}"
    : "${MARKET_HTTPS_PORT:=8443}" "${MARKET_HTTP_PORT:=8080}"
    : "${MARKET_PG_PORT:=15432}" "${MARKET_REDIS_PORT:=16379}" "${MARKET_MONGO_PORT:=27117}"
    : "${MARKET_SWIFT_PROXY_PORT:=18081}" "${MARKET_SWIFT_ACCOUNT_PORT:=16002}"
    : "${MARKET_SWIFT_CONTAINER_PORT:=16001}" "${MARKET_SWIFT_OBJECT_PORT:=16000}"
    ;;
test)
    : "${MARKET_VAR:=$MARKET_ROOT/var/test}"
    : "${MARKET_HTTPS_PORT:=9443}" "${MARKET_HTTP_PORT:=9080}"
    : "${MARKET_PG_PORT:=25432}" "${MARKET_REDIS_PORT:=26379}" "${MARKET_MONGO_PORT:=28117}"
    : "${MARKET_SWIFT_PROXY_PORT:=28081}" "${MARKET_SWIFT_ACCOUNT_PORT:=26002}"
    : "${MARKET_SWIFT_CONTAINER_PORT:=26001}" "${MARKET_SWIFT_OBJECT_PORT:=26000}"
    ;;
cluster)
    # One host of scripts/cluster, inside its own network namespace: the standard ports are
    # free there, and MARKET_VAR (var/cluster/HOST) is set by scripts/cluster.
    : "${MARKET_VAR:?MARKET_VAR must name the folder of the host}"
    : "${MARKET_HTTPS_PORT:=443}" "${MARKET_HTTP_PORT:=80}"
    : "${MARKET_PG_PORT:=5432}" "${MARKET_REDIS_PORT:=6379}" "${MARKET_MONGO_PORT:=27017}"
    : "${MARKET_SWIFT_PROXY_PORT:=8080}" "${MARKET_SWIFT_ACCOUNT_PORT:=6002}"
    : "${MARKET_SWIFT_CONTAINER_PORT:=6001}" "${MARKET_SWIFT_OBJECT_PORT:=6000}"
    ;;
*)
    echo "MARKET_STACK must be dev, test or cluster, not '$MARKET_STACK'" >&2
    exit 2
    ;;
esac

MARKET_RUN=$MARKET_VAR/run     # pid files and unix sockets
# The address services bind: loopback for the local stacks; every address of its namespace
# for a host of scripts/cluster (0.0.0.0), so other hosts reach it.
MARKET_LISTEN_ADDR=${MARKET_LISTEN_ADDR:-127.0.0.1}
MARKET_LOG=$MARKET_VAR/log     # one log file per service
MARKET_S3_BUCKET=${MARKET_S3_BUCKET:-market}
MARKET_S3_ACCESS_KEY=${MARKET_S3_ACCESS_KEY:-test:tester}
MARKET_S3_SECRET_KEY=${MARKET_S3_SECRET_KEY:-testing}
MARKET_S3_REGION=${MARKET_S3_REGION:-us-east-1}
# How long nginx keeps an anonymous catalogue answer (seconds): nginx's fastcgi_cache_valid in
# marketd-cached.conf and marketd's http_cache_ttl_s, which must agree (README, "Tenth pass").
MARKET_HTTP_CACHE_TTL_S=${MARKET_HTTP_CACHE_TTL_S:-5}
# The API's requests a second per client address, and its burst: nginx's zone market_api and
# marketd's api_rate_per_s / api_rate_burst (what nginx's cached locations pass on), which must agree.
MARKET_API_RATE_PER_S=${MARKET_API_RATE_PER_S:-50}
MARKET_API_RATE_BURST=${MARKET_API_RATE_BURST:-100}

export MARKET_ROOT MARKET_STACK MARKET_VAR MARKET_RUN MARKET_LOG MARKET_LISTEN_ADDR
export MARKET_HTTPS_PORT MARKET_HTTP_PORT MARKET_PG_PORT MARKET_REDIS_PORT MARKET_MONGO_PORT
export MARKET_SWIFT_PROXY_PORT MARKET_SWIFT_ACCOUNT_PORT MARKET_SWIFT_CONTAINER_PORT MARKET_SWIFT_OBJECT_PORT
export MARKET_S3_BUCKET MARKET_S3_ACCESS_KEY MARKET_S3_SECRET_KEY MARKET_S3_REGION MARKET_HTTP_CACHE_TTL_S
export MARKET_API_RATE_PER_S MARKET_API_RATE_BURST
# libmongoc (Debian's, initialised by a library constructor before main) makes a shared-memory
# file of performance counters per process, /dev/shm/mongoc-PID, and only mongoc_cleanup removes
# it: every killed daemon, test and tool left one behind. Nothing reads them; this turns them off
# for every process the scripts start (src/store/mongo.c removes a daemon's own otherwise).
export MONGOC_DISABLE_SHM=1

say()  { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die()  { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# wait_for DESCRIPTION SECONDS COMMAND...: run COMMAND until it succeeds or the deadline passes.
wait_for() {
    local what=$1 secs=$2; shift 2
    local deadline=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            return 1
        fi
        sleep 0.1
    done
}

# alive PID: true when PID is a running process (a zombie that nobody reaped yet is dead).
alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ]
}

# cpu_ticks PID...: the CPU the processes used so far (utime + stime, in clock ticks; getconf
# CLK_TCK a second), gone ones counted as 0. The command name may hold spaces: fields are read
# after its closing parenthesis.
cpu_ticks() {
    local t=0 p f
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] || continue
        read -r -a f <<<"$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null)" || continue
        [ "${#f[@]}" -gt 12 ] && t=$((t + f[11] + f[12]))
    done
    echo "$t"
}

# reaped_ticks PID: the CPU of PID's children that have exited and been waited for (cutime +
# cstime, in clock ticks; 0 when PID is gone): a pool master's recycled workers (max_requests),
# a postmaster's finished backends.
reaped_ticks() {
    local f
    [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }
    read -r -a f <<<"$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null)" || { echo 0; return; }
    echo $((${f[13]:-0} + ${f[14]:-0}))
}

# pid_alive NAME: true when $MARKET_RUN/NAME.pid names a live process.
pid_alive() {
    local f=$MARKET_RUN/$1.pid
    [ -s "$f" ] && alive "$(cat "$f")"
}

# stop_pid NAME [SECONDS]: SIGTERM the process of NAME.pid, SIGKILL after SECONDS (default 10).
stop_pid() {
    local name=$1 secs=${2:-10} f=$MARKET_RUN/$1.pid pid
    [ -s "$f" ] || return 0
    pid=$(cat "$f")
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        local deadline=$((SECONDS + secs))
        while alive "$pid"; do
            if ((SECONDS >= deadline)); then
                warn "$name (pid $pid) did not stop in ${secs}s; killing it"
                kill -KILL "$pid" 2>/dev/null
                break
            fi
            sleep 0.1
        done
    fi
    rm -f "$f"
}

# port_free PORT: true when nothing listens on 127.0.0.1:PORT.
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The wrk Lua scripts' common head (scripts/bench, scripts/bench-rss). Each wrk thread seeds
# its own random numbers: seeded alike (os.time() in every thread), the second thread repeated
# the first one's requests, so half the "every page new" requests were Redis hits (figures
# before 2026-11-28 20:30 carry that). uncached_max_price(): a max_price above every demo price
# (the highest is EUR 34,600), so it filters nothing and makes each search page new to every
# cache; before it (until 2026-11-30) the mix's shapes had 8,000-80,000 pages and up to half of
# a shape's requests in a 10 s run were second misses that stored their page, or Redis hits.
# shellcheck disable=SC2034 # used by the scripts that source this file
BENCH_LUA_HEAD='local threads = 0
function setup(thread) threads = threads + 1; thread:set("thread_no", threads) end
function init(args) math.randomseed(os.time() * 1000 + thread_no) end
function uncached_max_price() return math.random(50000000, 100000000) end'

# start_bg NAME COMMAND...: start COMMAND in the background with its output in
# $MARKET_LOG/NAME.log and its pid in $MARKET_RUN/NAME.pid.
# A benchmark's request log lines: bench_logs_mark notes the sizes of the stack's request logs
# (nginx's access log, the pools' logs), bench_logs_drop cuts them back to those sizes and says
# how much it dropped. One run of scripts/bench writes a few GB of access lines; kept, a day of
# runs grew var/log to 72 GB and filled the disk. Safe while the stack runs: nginx and the pools
# write with O_APPEND (start_bg's >>). nginx's error log is kept.
_bench_logs=(nginx-access.log market-query.log market-command.log)
declare -A _bench_log_size=()
bench_logs_mark() {
    local f
    for f in "${_bench_logs[@]}"; do
        _bench_log_size[$f]=$(stat -c %s "$MARKET_LOG/$f" 2>/dev/null || echo 0)
    done
}
bench_logs_drop() {
    local f now dropped=0
    for f in "${_bench_logs[@]}"; do
        [ -n "${_bench_log_size[$f]:-}" ] && [ -f "$MARKET_LOG/$f" ] || continue
        now=$(stat -c %s "$MARKET_LOG/$f")
        ((now > _bench_log_size[$f])) || continue
        truncate -s "${_bench_log_size[$f]}" "$MARKET_LOG/$f" && dropped=$((dropped + now - _bench_log_size[$f]))
    done
    say "dropped the run's $((dropped / 1048576)) MiB of request log lines from $MARKET_LOG"
}

start_bg() {
    local name=$1; shift
    mkdir -p "$MARKET_RUN" "$MARKET_LOG"
    setsid "$@" >>"$MARKET_LOG/$name.log" 2>&1 < /dev/null &
    echo $! >"$MARKET_RUN/$name.pid"
    disown $! 2>/dev/null || true   # no "Killed" job report when a test kills it on purpose
}
