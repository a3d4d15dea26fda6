# shellcheck shell=bash
# A local S3 endpoint: OpenStack Swift (Debian 12, swift 2.30) with the s3api and tempauth
# middlewares, single node, one replica, everything under $MARKET_VAR/swift.
# Sourced after common.sh, never run. Provides swift_start, swift_stop, swift_status and the
# variables MARKET_S3_ENDPOINT (S3 API, path-style) and MARKET_S3_PUBLIC_BASE (anonymous reads
# of the bucket's objects: "$MARKET_S3_PUBLIC_BASE/KEY").
#
# Layout:  $MARKET_VAR/swift/{swift.conf,*-server.conf,run-server.py,*.builder,*.ring.gz}
#          $MARKET_VAR/swift/srv/d1   the one "device" (a plain directory; needs xattrs)
#          $MARKET_RUN/swift-{account,container,object,proxy}.pid
#          $MARKET_LOG/swift-{account,container,object,proxy}.log

# The S3 access key is ACCOUNT:USER for tempauth; objects live in the Swift account AUTH_ACCOUNT.
MARKET_SWIFT_DIR=$MARKET_VAR/swift
MARKET_S3_ENDPOINT=http://127.0.0.1:$MARKET_SWIFT_PROXY_PORT
MARKET_S3_PUBLIC_BASE=$MARKET_S3_ENDPOINT/v1/AUTH_${MARKET_S3_ACCESS_KEY%%:*}/$MARKET_S3_BUCKET
# Origins allowed to call the S3 API from a browser (CORS), comma separated; "*" = any.
MARKET_S3_CORS_ORIGINS=${MARKET_S3_CORS_ORIGINS:-*}
export MARKET_SWIFT_DIR MARKET_S3_ENDPOINT MARKET_S3_PUBLIC_BASE MARKET_S3_CORS_ORIGINS

# Debian's interpreter, where python3-swift lives (python3 on PATH may be pyenv's, without swift).
SWIFT_PYTHON=/usr/bin/python3
SWIFT_SERVERS=(account container object proxy)

# Swift's servers read swift.conf (hash prefix/suffix, storage policies) from the hard-coded
# /etc/swift/swift.conf, whatever swift_dir says. This launcher (written to
# $MARKET_SWIFT_DIR/run-server.py) points them at our own swift.conf first, so the folder is
# self-contained, then runs the server like /usr/bin/swift-*-server CONF --verbose
# (--verbose = log to stderr, i.e. into $MARKET_LOG; without it the logs go to syslog, which
# does not exist here). Arguments: SERVER CONF, e.g. proxy-server /x/swift/proxy-server.conf
_SWIFT_LAUNCHER='# Written by scripts/lib/swift.sh: run a Swift server with swift.conf from this folder.
import os, sys
from swift.common import utils, storage_policy
utils.set_swift_dir(os.path.dirname(os.path.abspath(__file__)))
storage_policy.reload_storage_policies()
from swift.common.wsgi import run_wsgi
sys.exit(run_wsgi(sys.argv[2], sys.argv[1], verbose=True))
'

# _swift_port SERVER: the port of account|container|object|proxy.
_swift_port() {
    case $1 in
    account) echo "$MARKET_SWIFT_ACCOUNT_PORT" ;;
    container) echo "$MARKET_SWIFT_CONTAINER_PORT" ;;
    object) echo "$MARKET_SWIFT_OBJECT_PORT" ;;
    proxy) echo "$MARKET_SWIFT_PROXY_PORT" ;;
    esac
}

# _swift_log_tail SERVER [LINES]: print to stderr the end of a server's log, from its last
# start (swift_start writes a marker line before each start) at most.
_swift_log_tail() {
    local f=$MARKET_LOG/swift-$1.log
    if [ -s "$f" ]; then
        printf -- '--- last lines of %s ---\n' "$f" >&2
        tail -n 2000 "$f" |
            awk '/^=== swift_start /{n=0} {l[n++]=$0} END{for(i=0;i<n;i++) print l[i]}' |
            tail -n "${2:-20}" >&2
    else
        printf -- '--- %s is empty or missing ---\n' "$f" >&2
    fi
}

# _swift_write_confs: write swift.conf (once: its hash prefix/suffix must never change while
# data exists) and the four server configs (every start; they only hold settings).
_swift_write_confs() {
    local d=$MARKET_SWIFT_DIR user account s3user
    user=$(id -un)
    account=${MARKET_S3_ACCESS_KEY%%:*}
    s3user=${MARKET_S3_ACCESS_KEY#*:}
    mkdir -p "$d/srv/d1" "$d/cache" || return 1

    if [ ! -s "$d/swift.conf" ]; then
        cat >"$d/swift.conf.tmp" <<EOF || return 1
# Written by scripts/lib/swift.sh on first start. Never change the hash values while data exists.
[swift-hash]
swift_hash_path_prefix = $(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
swift_hash_path_suffix = $(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')

[storage-policy:0]
name = Policy-0
default = yes
EOF
        mv "$d/swift.conf.tmp" "$d/swift.conf" || return 1
    fi

    printf '%s' "$_SWIFT_LAUNCHER" >"$d/run-server.py" || return 1

    local server
    for server in account container object; do
        cat >"$d/$server-server.conf.tmp" <<EOF || return 1
# Written by scripts/lib/swift.sh on every start; edit that file instead.
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $(_swift_port "$server")
workers = 0
user = $user
swift_dir = $d
devices = $d/srv
mount_check = false
recon_cache_path = $d/cache
log_name = swift-$server

[pipeline:main]
pipeline = $server-server

[app:$server-server]
use = egg:swift#$server
EOF
        mv "$d/$server-server.conf.tmp" "$d/$server-server.conf" || return 1
    done

    # No memcached: tempauth refuses to work without the cache filter ("Memcache required"),
    # so the filter stays, pointed at 127.0.0.1:1 where nothing listens. After the first
    # refused connection the error limiter (limit 0, 10 years) stops all further attempts, and
    # log_level = CRITICAL keeps its "connection refused"/"error-limited" lines out of the log.
    # Effect: no token or account/container-info caching. S3 (signature checked per request)
    # and anonymous reads work; native Swift tokens from /auth/v1.0 do not (they need memcached).
    # CORS: s3api answers S3 preflights (OPTIONS with Authorization or X-Amz-Credential) for
    # cors_preflight_allow_origin, and the proxy adds Access-Control-Allow-Origin to the
    # responses for cors_allow_origin, so browsers can PUT to pre-signed URLs from another origin.
    {
        cat <<EOF
# Written by scripts/lib/swift.sh on every start; edit that file instead.
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $MARKET_SWIFT_PROXY_PORT
workers = 0
user = $user
swift_dir = $d
log_name = swift-proxy

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
cors_allow_origin = $MARKET_S3_CORS_ORIGINS

[filter:s3api]
use = egg:swift#s3api
location = $MARKET_S3_REGION
s3_acl = false
cors_preflight_allow_origin = $MARKET_S3_CORS_ORIGINS

[filter:tempauth]
use = egg:swift#tempauth
user_${account}_${s3user} = $MARKET_S3_SECRET_KEY .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:1
memcache_max_connections = 1
error_suppression_limit = 0
error_suppression_interval = 315360000
log_level = CRITICAL
EOF
        # The filters without options: [filter:NAME] use = egg:swift#ENTRY (NAME:ENTRY where they differ).
        local f
        for f in catch_errors gatekeeper healthcheck proxy-logging:proxy_logging listing_formats copy slo dlo \
            versioned_writes; do
            printf '\n[filter:%s]\nuse = egg:swift#%s\n' "${f%%:*}" "${f##*:}"
        done
    } >"$d/proxy-server.conf.tmp" || return 1
    mv "$d/proxy-server.conf.tmp" "$d/proxy-server.conf"
}

# _swift_build_rings: build the account, container and object rings (one device, one replica)
# in one Python process, unless they exist for the current ports (ports are recorded in
# rings.ports; with one device, rebuilding maps every partition to it again, so data stays).
_swift_build_rings() {
    local d=$MARKET_SWIFT_DIR ports
    ports="$MARKET_SWIFT_ACCOUNT_PORT $MARKET_SWIFT_CONTAINER_PORT $MARKET_SWIFT_OBJECT_PORT"
    if [ -s "$d/account.ring.gz" ] && [ -s "$d/container.ring.gz" ] &&
        [ -s "$d/object.ring.gz" ] && [ "$(cat "$d/rings.ports" 2>/dev/null)" = "$ports" ]; then
        return 0
    fi
    "$SWIFT_PYTHON" -E - "$d" "$MARKET_SWIFT_ACCOUNT_PORT" "$MARKET_SWIFT_CONTAINER_PORT" \
        "$MARKET_SWIFT_OBJECT_PORT" <<'EOF' || return 1
import os, sys
from swift.common.ring import RingBuilder
d = sys.argv[1]
for name, port in zip(("account", "container", "object"), sys.argv[2:5]):
    b = RingBuilder(8, 1, 0)  # part power 8, 1 replica, min_part_hours 0
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port),
               "replication_ip": "127.0.0.1", "replication_port": int(port),
               "device": "d1", "weight": 100, "meta": ""})
    b.rebalance()
    b.save(os.path.join(d, name + ".builder.tmp"))
    b.get_ring().save(os.path.join(d, name + ".ring.gz.tmp"))
    os.replace(os.path.join(d, name + ".builder.tmp"), os.path.join(d, name + ".builder"))
    os.replace(os.path.join(d, name + ".ring.gz.tmp"), os.path.join(d, name + ".ring.gz"))
EOF
    echo "$ports" >"$d/rings.ports"
}

# _swift_healthy: true when all four pids are alive and the proxy answers /healthcheck.
_swift_healthy() {
    local s
    for s in "${SWIFT_SERVERS[@]}"; do
        pid_alive "swift-$s" || return 1
    done
    [ "$(curl -s -m 2 "$MARKET_S3_ENDPOINT/healthcheck" 2>/dev/null)" = OK ]
}

# _swift_wait_ready SECONDS: poll until the three backends listen and the proxy's /healthcheck
# answers OK; fail at once (with the log) if a server process dies, or at the deadline.
_swift_wait_ready() {
    local deadline=$((SECONDS + $1)) s ok
    while :; do
        ok=1
        for s in "${SWIFT_SERVERS[@]}"; do
            if ! pid_alive "swift-$s"; then
                printf 'swift: swift-%s exited during start-up\n' "$s" >&2
                _swift_log_tail "$s"
                return 1
            fi
            if [ "$s" != proxy ] && port_free "$(_swift_port "$s")"; then
                ok=0
            fi
        done
        if ((ok)) && [ "$(curl -s -m 2 "$MARKET_S3_ENDPOINT/healthcheck" 2>/dev/null)" = OK ]; then
            return 0
        fi
        if ((SECONDS >= deadline)); then
            printf 'swift: not ready after %ss (backends listening: %s, proxy /healthcheck failing)\n' \
                "$1" "$( ((ok)) && echo yes || echo no)" >&2
            for s in "${SWIFT_SERVERS[@]}"; do _swift_log_tail "$s" 5; done
            return 1
        fi
        sleep 0.1
    done
}

# _swift_urlencode STRING: percent-encode everything but unreserved characters.
_swift_urlencode() {
    local s=$1 out='' c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [a-zA-Z0-9.~_-]) out+=$c ;;
        *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

# swift_s3_curl METHOD PATH [CURL ARGS...]: a SigV4 header-signed S3 request to
# $MARKET_S3_ENDPOINT/PATH (PATH = BUCKET[/KEY][?query], no leading slash). The access key
# contains a colon, which curl's --user would split at, so the credentials go percent-encoded
# into the URL's userinfo. x-amz-content-sha256 is required by s3api; UNSIGNED-PAYLOAD is used
# unless the caller passes its own. Prints the response body; the exit code is curl's.
swift_s3_curl() {
    local method=$1 path=$2; shift 2
    local creds have_sha=0 a
    creds="$(_swift_urlencode "$MARKET_S3_ACCESS_KEY"):$(_swift_urlencode "$MARKET_S3_SECRET_KEY")"
    for a in "$@"; do
        case ${a,,} in x-amz-content-sha256:*) have_sha=1 ;; esac
    done
    local extra=()
    ((have_sha)) || extra=(-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
    curl -sS -m 20 -X "$method" --aws-sigv4 "aws:amz:$MARKET_S3_REGION:s3" "${extra[@]}" "$@" \
        "http://$creds@127.0.0.1:$MARKET_SWIFT_PROXY_PORT/$path"
}

# _swift_s3_error BODY: the Code and Message of an S3 XML error (or the body's start).
_swift_s3_error() {
    local code msg
    code=$(sed -n 's:.*<Code>\(.*\)</Code>.*:\1:p' <<<"$1" | head -n 1)
    msg=$(sed -n 's:.*<Message>\(.*\)</Message>.*:\1:p' <<<"$1" | head -n 1)
    if [ -n "$code" ]; then
        printf '%s: %s' "$code" "$msg"
    else
        printf '%s' "${1:0:300}"
    fi
}

# _swift_create_bucket: create $MARKET_S3_BUCKET with x-amz-acl: public-read (anonymous reads);
# 200, or 409 BucketAlreadyOwnedByYou/BucketAlreadyExists, count as success. No answer or a 5xx
# is retried for a few seconds (backends warming up); any other answer fails at once.
_swift_create_bucket() {
    local deadline=$((SECONDS + 15)) out code
    while :; do
        out=$(swift_s3_curl PUT "$MARKET_S3_BUCKET" -H 'x-amz-acl: public-read' \
            -w '\n%{http_code}' 2>&1)
        code=${out##*$'\n'}
        case $code in
        200 | 409) return 0 ;;
        000 | 5??) ((SECONDS < deadline)) && { sleep 0.2; continue; } ;;
        esac
        printf 'swift: creating bucket %s failed (HTTP %s): %s\n' \
            "$MARKET_S3_BUCKET" "$code" "$(_swift_s3_error "${out%$'\n'*}")" >&2
        _swift_log_tail proxy 5
        return 1
    done
}

# _swift_check_public_read: PUT a small object signed, read it anonymously through the public
# URL, delete it. Proves signatures, the public-read ACL and the backends end to end.
_swift_check_public_read() {
    local key=.market-start-check body got code
    body="ok $$ $RANDOM"
    code=$(printf '%s' "$body" | swift_s3_curl PUT "$MARKET_S3_BUCKET/$key" \
        -H 'Content-Type: text/plain' --data-binary @- -o /dev/null -w '%{http_code}' 2>&1)
    if [ "$code" != 200 ]; then
        printf 'swift: signed PUT of %s/%s failed (HTTP %s)\n' "$MARKET_S3_BUCKET" "$key" "$code" >&2
        _swift_log_tail proxy
        return 1
    fi
    got=$(curl -sS -m 10 "$MARKET_S3_PUBLIC_BASE/$key" 2>&1)
    if [ "$got" != "$body" ]; then
        printf 'swift: anonymous GET %s/%s did not return the object (got: %s)\n' \
            "$MARKET_S3_PUBLIC_BASE" "$key" "${got:0:300}" >&2
        _swift_log_tail proxy
        return 1
    fi
    swift_s3_curl DELETE "$MARKET_S3_BUCKET/$key" -o /dev/null || true
}

# swift_start: start the four Swift servers (idempotent), create the public-read bucket and
# check a signed write plus an anonymous read. Returns non-zero, saying why, on failure.
swift_start() {
    if _swift_healthy; then
        return 0
    fi
    if [ ! -x "$SWIFT_PYTHON" ] || ! "$SWIFT_PYTHON" -E -c \
        'import importlib.util, sys; sys.exit(importlib.util.find_spec("swift") is None)'; then
        printf 'swift: python3-swift is not installed for %s (apt-get install swift swift-proxy swift-account swift-container swift-object)\n' \
            "$SWIFT_PYTHON" >&2
        return 1
    fi
    mkdir -p "$MARKET_RUN" "$MARKET_LOG" || return 1
    if ! _swift_write_confs; then
        echo "swift: writing the configs under $MARKET_SWIFT_DIR failed" >&2
        return 1
    fi
    if ! _swift_build_rings; then
        echo "swift: building the rings under $MARKET_SWIFT_DIR failed" >&2
        return 1
    fi
    local s port
    for s in "${SWIFT_SERVERS[@]}"; do
        port=$(_swift_port "$s")
        if ! pid_alive "swift-$s" && ! port_free "$port"; then
            printf 'swift: port %s (swift-%s) is taken by another process\n' "$port" "$s" >&2
            return 1
        fi
    done
    # The proxy first: it takes longest to load (~1.5 s of imports on this machine).
    for s in proxy account container object; do
        pid_alive "swift-$s" && continue
        echo "=== swift_start $(date '+%F %T')" >>"$MARKET_LOG/swift-$s.log"
        start_bg "swift-$s" "$SWIFT_PYTHON" -E "$MARKET_SWIFT_DIR/run-server.py" \
            "$s-server" "$MARKET_SWIFT_DIR/$s-server.conf"
    done
    _swift_wait_ready 60 || return 1
    _swift_create_bucket || return 1
    _swift_check_public_read || return 1
}

# swift_stop: stop the four servers (data and configs stay).
swift_stop() {
    local s
    for s in proxy object container account; do
        stop_pid "swift-$s"
    done
}

# swift_status: one line per server, running or not.
swift_status() {
    local s
    for s in "${SWIFT_SERVERS[@]}"; do
        if pid_alive "swift-$s"; then
            printf 'swift-%-9s running (pid %s, port %s)\n' "$s" \
                "$(cat "$MARKET_RUN/swift-$s.pid")" "$(_swift_port "$s")"
        else
            printf 'swift-%-9s not running\n' "$s"
        fi
    done
}
