# shellcheck shell=bash
# Installing what the stack needs on a Debian 12 machine, and building marketd.
# Sourced after common.sh.

# Debian packages: build tools and libraries, then the services of the local stack.
MARKET_APT_PACKAGES=(
    build-essential autoconf automake pkg-config ca-certificates curl openssl procps
    libfcgi-dev libpq-dev libmongoc-dev libbson-dev libhiredis-dev libcurl4-openssl-dev
    libjson-c-dev libcriterion-dev libsodium-dev libvips-dev
    postgresql redis-server nginx libnginx-mod-http-cache-purge
    swift swift-proxy swift-account swift-container swift-object
    wrk
)

# missing_packages PACKAGE...: those of them dpkg does not have installed, one a line.
missing_packages() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}

# apt_install PACKAGE...: apt-get install them (as root), refreshing the package list once
# when the install fails on a stale one (or on a fresh machine, which has none).
apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        die "missing Debian packages: $* — run as root, or install them with apt-get"
    fi
    say "installing Debian packages: $*"
    mkdir -p "$MARKET_VAR"
    export DEBIAN_FRONTEND=noninteractive
    # --no-install-recommends keeps keystonemiddleware and other extras of swift out.
    if ! apt-get install -y -qq --no-install-recommends "$@" >"$MARKET_VAR/apt-install.log" 2>&1; then
        apt-get update -qq >"$MARKET_VAR/apt-update.log" 2>&1 || {
            tail -n 20 "$MARKET_VAR/apt-update.log" >&2
            die "apt-get update failed (log: $MARKET_VAR/apt-update.log)"
        }
        apt-get install -y -qq --no-install-recommends "$@" >"$MARKET_VAR/apt-install.log" 2>&1 || {
            tail -n 30 "$MARKET_VAR/apt-install.log" >&2
            die "apt-get install failed for: $* (log: $MARKET_VAR/apt-install.log)"
        }
    fi
}

# ensure_packages: apt-get install whatever of MARKET_APT_PACKAGES (and Node.js, unless a
# node is already on PATH) is missing.
ensure_packages() {
    local missing p
    mapfile -t missing < <(missing_packages "${MARKET_APT_PACKAGES[@]}")
    if ! command -v node >/dev/null 2>&1; then
        missing+=(nodejs)
    fi
    if ! command -v npm >/dev/null 2>&1; then
        missing+=(npm)
    fi
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    apt_install "${missing[@]}"
    # The packages enable services for their system-wide configurations; this stack runs
    # its own instances under var/, so stop any the package scripts may have started.
    if command -v service >/dev/null 2>&1; then
        for p in nginx redis-server postgresql; do service "$p" stop >/dev/null 2>&1 || true; done
    fi
}

# Only scripts/fuzz needs these (clang's libFuzzer runtime with ASan and UBSan); they are
# installed on its first run, so scripts/up and scripts/test stay as they are.
MARKET_FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev libfuzzer-14-dev)

# ensure_fuzz_packages: apt-get install whatever of MARKET_FUZZ_PACKAGES is missing.
ensure_fuzz_packages() {
    local missing p
    mapfile -t missing < <(missing_packages "${MARKET_FUZZ_PACKAGES[@]}")
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    apt_install "${missing[@]}"
}

# ensure_node_modules: npm ci for the MongoDB stand-in, from its committed lockfile.
ensure_node_modules() {
    local dir=$MARKET_ROOT/scripts/mongo-standin
    if [ -d "$dir/node_modules" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
        return 0
    fi
    say "installing the MongoDB stand-in's npm packages (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >"$MARKET_VAR/npm-ci.log" 2>&1 || {
        tail -n 30 "$MARKET_VAR/npm-ci.log" >&2
        die "npm ci failed in scripts/mongo-standin (log: $MARKET_VAR/npm-ci.log)"
    }
}

# ensure_built: autoreconf/configure when needed, then make (quietly unless it fails).
ensure_built() {
    cd "$MARKET_ROOT" || die "no $MARKET_ROOT"
    if [ ! -x configure ] || [ configure.ac -nt configure ]; then
        say "autoreconf"
        autoreconf -fi >"$MARKET_VAR/autoreconf.log" 2>&1 || {
            cat "$MARKET_VAR/autoreconf.log" >&2
            die "autoreconf failed"
        }
    fi
    if [ ! -f Makefile ] || [ configure -nt Makefile ] || [ Makefile.am -nt Makefile ]; then
        say "configure"
        ./configure -q ${MARKET_CONFIGURE_FLAGS:-} >"$MARKET_VAR/configure.log" 2>&1 || {
            tail -n 30 "$MARKET_VAR/configure.log" >&2
            die "configure failed (log: $MARKET_VAR/configure.log)"
        }
    fi
    say "make"
    make -j"$(nproc)" >"$MARKET_VAR/make.log" 2>&1 || {
        grep -E 'error|Error' "$MARKET_VAR/make.log" | head -n 40 >&2
        die "the build failed (log: $MARKET_VAR/make.log)"
    }
}

# ensure_traversable DIR USER: USER must reach DIR (PostgreSQL refuses to run as root, and
# nginx workers drop privileges). Adds the search bit (o+x, not read) to any ancestor that
# lacks it, and says so.
ensure_traversable() {
    local dir=$1 user=$2 d
    if runuser -u "$user" -- test -x "$dir" 2>/dev/null; then
        return 0
    fi
    d=$dir
    while [ "$d" != / ]; do
        if [ "$(stat -c %A "$d" | cut -c10)" != x ] && [ "$(stat -c %A "$d" | cut -c10)" != t ]; then
            say "giving others search permission (o+x) on $d so that $user can reach $dir"
            chmod o+x "$d"
        fi
        d=$(dirname "$d")
    done
}
