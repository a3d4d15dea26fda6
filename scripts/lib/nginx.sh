# shellcheck shell=bash
# nginx in front of the pools: TLS on $MARKET_HTTPS_PORT (self-signed certificate under
# $MARKET_VAR/nginx/tls), plain HTTP on $MARKET_HTTP_PORT. Sourced after common.sh.

MARKET_NGINX_DIR=$MARKET_VAR/nginx
# The built web client (web_build in install.sh), served at /.
MARKET_WEB_ROOT=$MARKET_NGINX_DIR/www
# The page cache lives on tmpfs when there is one (cheaper per hit than the disk), one
# directory per stack (named after its var folder); var/nginx/cache points to it.
if [ -z "${MARKET_NGINX_CACHE:-}" ]; then
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        MARKET_NGINX_CACHE=/dev/shm/marketd-nginx-cache-$(printf '%s' "$MARKET_VAR" | md5sum | cut -c1-12)
    else
        MARKET_NGINX_CACHE=$MARKET_NGINX_DIR/cache
    fi
fi

# render TEMPLATE OUTPUT: replace the @PLACEHOLDERS@ of an nginx template.
_nginx_render() {
    local user=$1 in=$2 out=$3
    sed -e "s|@VAR@|$MARKET_VAR|g" -e "s|@LOG@|$MARKET_LOG|g" -e "s|@NGINX_DIR@|$MARKET_NGINX_DIR|g" \
        -e "s|@NGINX_USER@|$user|g" -e "s|@HTTPS_PORT@|$MARKET_HTTPS_PORT|g" -e "s|@HTTP_PORT@|$MARKET_HTTP_PORT|g" \
        -e "s|@QUERY_UPSTREAM@|${MARKET_NGINX_QUERY_UPSTREAM:-unix:$MARKET_RUN/query.sock}|g" \
        -e "s|@COMMAND_UPSTREAM@|${MARKET_NGINX_COMMAND_UPSTREAM:-unix:$MARKET_RUN/command.sock}|g" \
        -e "s|@CLUSTER_NET@|${MARKET_CLUSTER_NET:-}|g" -e "s|@LB_ADDR@|${MARKET_LB_ADDR:-}|g" \
        -e "s|@FRONT_ADDR@|${MARKET_FRONT_ADDR:-}|g" \
        -e "s|@CACHE_DIR@|$MARKET_NGINX_CACHE|g" -e "s|@ROOT@|$MARKET_ROOT|g" \
        -e "s|@HTTP_CACHE_TTL_S@|$MARKET_HTTP_CACHE_TTL_S|g" \
        -e "s|@API_RATE_PER_S@|$MARKET_API_RATE_PER_S|g" -e "s|@API_RATE_BURST@|$MARKET_API_RATE_BURST|g" \
        -e "s|@S3_PUBLIC_BASE@|$MARKET_S3_PUBLIC_BASE|g" -e "s|@S3_ENDPOINT@|$MARKET_S3_ENDPOINT|g" \
        -e "s|@S3_BUCKET@|$MARKET_S3_BUCKET|g" -e "s|@WEB_ROOT@|$MARKET_WEB_ROOT|g" "$in" >"$out"
}

nginx_configure() {
    local user=www-data
    mkdir -p "$MARKET_NGINX_DIR"/{tls,bench} "$MARKET_NGINX_CACHE" "$MARKET_NGINX_DIR"/tmp/{body,fastcgi,proxy,uwsgi,scgi} "$MARKET_LOG" "$MARKET_RUN"
    if [ "$MARKET_NGINX_CACHE" != "$MARKET_NGINX_DIR/cache" ]; then
        [ -L "$MARKET_NGINX_DIR/cache" ] || rm -rf "$MARKET_NGINX_DIR/cache"   # an older stack's disk cache
        ln -sfn "$MARKET_NGINX_CACHE" "$MARKET_NGINX_DIR/cache"
    fi
    id www-data >/dev/null 2>&1 || user=nobody
    [ "$user" = nobody ] || ensure_traversable "$MARKET_NGINX_DIR" www-data
    chown -R "$user": "$MARKET_NGINX_CACHE" "$MARKET_NGINX_DIR/tmp"
    if [ ! -s "$MARKET_NGINX_DIR/tls/cert.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            -keyout "$MARKET_NGINX_DIR/tls/key.pem" -out "$MARKET_NGINX_DIR/tls/cert.pem" >/dev/null 2>&1 ||
            die "openssl could not make the self-signed certificate"
    fi
    local n
    for n in marketd-http.conf marketd-locations.conf marketd-error-locations.conf marketd-headers.conf marketd-cached.conf marketd-cached-read.conf \
        marketd-cached-json.conf marketd-write-hop.conf; do
        _nginx_render "$user" "$MARKET_ROOT/nginx/$n.in" "$MARKET_NGINX_DIR/$n"
    done
    cp "$MARKET_ROOT/nginx/marketd-security-headers.conf" "$MARKET_ROOT/nginx/marketd-document-headers.conf" "$MARKET_ROOT/nginx/marketd-cached-json-headers.conf" "$MARKET_ROOT/nginx/marketd-fastcgi.conf" "$MARKET_ROOT/nginx/marketd-query.conf" \
        "$MARKET_ROOT/nginx/marketd-errors.conf" "$MARKET_NGINX_DIR/"
    # scripts/cluster's load balancer has a top-level configuration of its own.
    _nginx_render "$user" "$MARKET_ROOT/nginx/${MARKET_NGINX_MAIN:-marketplace.conf.in}" "$MARKET_NGINX_DIR/nginx.conf"
    nginx -t -q -c "$MARKET_NGINX_DIR/nginx.conf" -p "$MARKET_NGINX_DIR" -e "$MARKET_LOG/nginx-error.log" 2>"$MARKET_LOG/nginx-check.log" ||
        { cat "$MARKET_LOG/nginx-check.log" >&2; die "the rendered nginx configuration is invalid"; }
}

nginx_start() {
    nginx_configure
    if pid_alive nginx; then
        kill -HUP "$(cat "$MARKET_RUN/nginx.pid")"   # reload the freshly rendered configuration
        return 0
    fi
    port_free "$MARKET_HTTPS_PORT" || die "port $MARKET_HTTPS_PORT (nginx HTTPS) is taken by another process"
    port_free "$MARKET_HTTP_PORT" || die "port $MARKET_HTTP_PORT (nginx HTTP) is taken by another process"
    # nginx writes its own pid file (the master's pid) at $MARKET_RUN/nginx.pid.
    setsid nginx -c "$MARKET_NGINX_DIR/nginx.conf" -p "$MARKET_NGINX_DIR" -e "$MARKET_LOG/nginx-error.log" \
        >>"$MARKET_LOG/nginx.log" 2>&1 </dev/null &
    wait_for nginx 10 curl -sfk -o /dev/null "https://127.0.0.1:$MARKET_HTTPS_PORT/healthz" -m 1 --http1.1 -H 'Connection: close' ||
        wait_for nginx 5 test -s "$MARKET_RUN/nginx.pid" ||
        { tail -n 20 "$MARKET_LOG/nginx-error.log" >&2; die "nginx did not start"; }
}

nginx_stop() {
    stop_pid nginx 10
    # The tmpfs cache goes with the stack (memory, not disk); a disk one stays under var/.
    case "$MARKET_NGINX_CACHE" in /dev/shm/marketd-nginx-cache-*) rm -rf "$MARKET_NGINX_CACHE" ;; esac
}
