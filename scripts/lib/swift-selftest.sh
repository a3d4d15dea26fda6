#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Self-test of the local S3 endpoint started by swift_start (scripts/lib/swift.sh):
# header-signed SigV4 PUT/HEAD/DELETE, anonymous public reads, pre-signed PUT/GET URLs (as a
# browser would use them, CORS included) and the refusals that matter (tampered, expired,
# wrong Content-Type, unsigned). Uses curl and python3 (standard library only, for pre-signing).
#   MARKET_STACK=test bash scripts/lib/swift-selftest.sh      # exit 0 when every check passes
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/common.sh"
source "$here/swift.sh"

PY=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
key=selftest/$(date +%s)-$$.bin
pkey=selftest/$(date +%s)-$$-presigned.txt

# check DESCRIPTION EXPECTED ACTUAL: report one check.
check() {
    if [ "$2" = "$3" ]; then
        printf 'ok   %s\n' "$1"
    else
        printf 'FAIL %s: expected [%s], got [%s]\n' "$1" "$2" "$3"
        failures=$((failures + 1))
    fi
}

# header NAME FILE: the value of a response header in a curl -D dump (case-insensitive).
header() {
    awk -v h="${1,,}" -F': ' \
        'tolower($1) == h { sub(/\r$/, "", $2); print $2 }' "$2" | tail -n 1
}

# presign METHOD KEY EXPIRES [CONTENT-TYPE [AMZ-DATE]]: print a SigV4 pre-signed URL for
# $MARKET_S3_ENDPOINT/$MARKET_S3_BUCKET/KEY; CONTENT-TYPE, when given, is a signed header.
presign() {
    "$PY" - "$@" <<'EOF'
import datetime, hashlib, hmac, os, sys, urllib.parse
method, key, expires = sys.argv[1:4]
ctype = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
amz_date = sys.argv[5] if len(sys.argv) > 5 else \
    datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
ak, sk = os.environ["MARKET_S3_ACCESS_KEY"], os.environ["MARKET_S3_SECRET_KEY"]
region, bucket = os.environ["MARKET_S3_REGION"], os.environ["MARKET_S3_BUCKET"]
host = "127.0.0.1:" + os.environ["MARKET_SWIFT_PROXY_PORT"]
scope = "%s/%s/s3/aws4_request" % (amz_date[:8], region)
q = lambda s: urllib.parse.quote(s, safe="-_.~")
path = "/" + q(bucket) + "/" + "/".join(q(p) for p in key.split("/"))
headers = {"host": host}
if ctype:
    headers["content-type"] = ctype
signed = ";".join(sorted(headers))
params = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": ak + "/" + scope,
          "X-Amz-Date": amz_date, "X-Amz-Expires": expires, "X-Amz-SignedHeaders": signed}
query = "&".join("%s=%s" % (q(k), q(v)) for k, v in sorted(params.items()))
creq = "\n".join([method, path, query,
                  "".join("%s:%s\n" % (k, headers[k].strip()) for k in sorted(headers)),
                  signed, "UNSIGNED-PAYLOAD"])
sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                 hashlib.sha256(creq.encode()).hexdigest()])
k = ("AWS4" + sk).encode()
for part in (amz_date[:8], region, "s3", "aws4_request"):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
print("http://%s%s?%s&X-Amz-Signature=%s" % (host, path, query, sig))
EOF
}

echo "S3 endpoint $MARKET_S3_ENDPOINT, bucket $MARKET_S3_BUCKET, public base $MARKET_S3_PUBLIC_BASE"

# 1. Header-signed PUT with the real payload hash, a binary body and a Content-Type.
head -c 3000 /dev/urandom >"$tmp/body"
sha=$(sha256sum "$tmp/body" | cut -d' ' -f1)
md5=$(md5sum "$tmp/body" | cut -d' ' -f1)
code=$(swift_s3_curl PUT "$MARKET_S3_BUCKET/$key" -H "x-amz-content-sha256: $sha" \
    -H 'Content-Type: image/png' --data-binary @"$tmp/body" -o "$tmp/out" -w '%{http_code}')
check "signed PUT (payload hash signed)" 200 "$code"

# 2. A payload that does not match the signed hash is refused.
code=$(printf 'other bytes' | swift_s3_curl PUT "$MARKET_S3_BUCKET/$key.bad" \
    -H "x-amz-content-sha256: $sha" --data-binary @- -o "$tmp/out" -w '%{http_code}')
check "signed PUT with a wrong payload hash refused (BadDigest)" 400 "$code"

# 3. Signed HEAD: type, length, ETag.
code=$(swift_s3_curl HEAD "$MARKET_S3_BUCKET/$key" -I -D "$tmp/h" -o /dev/null -w '%{http_code}')
check "signed HEAD" 200 "$code"
check "HEAD Content-Type" image/png "$(header content-type "$tmp/h")"
check "HEAD Content-Length" 3000 "$(header content-length "$tmp/h")"
check "HEAD ETag is the MD5" "\"$md5\"" "$(header etag "$tmp/h")"

# 4. Anonymous GET through the public URL returns the same bytes and type.
code=$(curl -sS -m 10 -D "$tmp/h" -o "$tmp/got" -w '%{http_code}' "$MARKET_S3_PUBLIC_BASE/$key")
check "anonymous GET of the public URL" 200 "$code"
check "public GET body identical" yes "$(cmp -s "$tmp/body" "$tmp/got" && echo yes || echo no)"
check "public GET Content-Type" image/png "$(header content-type "$tmp/h")"

# 5. Unsigned S3-style reads and writes are refused: without a signature s3api leaves the
# request alone, and the proxy rejects a path outside /v1/ with 400.
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$MARKET_S3_ENDPOINT/$MARKET_S3_BUCKET/$key")
check "unsigned S3 GET refused" 400 "$code"
code=$(curl -sS -m 10 -X PUT --data-binary x -o /dev/null -w '%{http_code}' \
    "$MARKET_S3_ENDPOINT/$MARKET_S3_BUCKET/$key.anon")
check "unsigned S3 PUT refused" 400 "$code"
code=$(curl -sS -m 10 -X PUT --data-binary x -o /dev/null -w '%{http_code}' \
    "$MARKET_S3_PUBLIC_BASE/$key.anon")
check "anonymous Swift PUT refused" 401 "$code"

# 6. Pre-signed PUT, as a browser would send it (Content-Type is signed).
url=$(presign PUT "$pkey" 300 text/plain)
origin=https://localhost:$MARKET_HTTPS_PORT   # the CORS origin swift.sh allows
code=$(curl -sS -m 10 -X OPTIONS -D "$tmp/h" -o /dev/null -w '%{http_code}' \
    -H "Origin: $origin" -H 'Access-Control-Request-Method: PUT' \
    -H 'Access-Control-Request-Headers: content-type' "$url")
check "CORS preflight of the pre-signed URL" 200 "$code"
check "preflight Access-Control-Allow-Origin" "$origin" "$(header access-control-allow-origin "$tmp/h")"
code=$(printf 'hello presigned' | curl -sS -m 10 -X PUT -H 'Content-Type: text/plain' \
    -H "Origin: $origin" --data-binary @- -D "$tmp/h" -o "$tmp/out" -w '%{http_code}' "$url")
check "pre-signed PUT" 200 "$code"
check "pre-signed PUT Access-Control-Allow-Origin" "$origin" \
    "$(header access-control-allow-origin "$tmp/h")"
code=$(printf 'evil' | curl -sS -m 10 -X PUT -H 'Content-Type: text/html' --data-binary @- \
    -o /dev/null -w '%{http_code}' "$url")
check "pre-signed PUT with another Content-Type refused" 403 "$code"
if [ "${url: -1}" = 0 ]; then bad=${url%?}1; else bad=${url%?}0; fi
code=$(printf 'evil' | curl -sS -m 10 -X PUT -H 'Content-Type: text/plain' --data-binary @- \
    -o /dev/null -w '%{http_code}' "$bad")
check "pre-signed PUT with a tampered signature refused" 403 "$code"
old=$(presign PUT "$pkey" 60 text/plain "$(date -u -d '-1 hour' +%Y%m%dT%H%M%SZ)")
code=$(printf 'evil' | curl -sS -m 10 -X PUT -H 'Content-Type: text/plain' --data-binary @- \
    -o /dev/null -w '%{http_code}' "$old")
check "expired pre-signed PUT refused" 403 "$code"

# 7. Pre-signed GET, and the public URL, return what the pre-signed PUT stored.
check "pre-signed GET body" "hello presigned" "$(curl -sS -m 10 "$(presign GET "$pkey" 300)")"
check "public GET of the pre-signed upload" "hello presigned" \
    "$(curl -sS -m 10 "$MARKET_S3_PUBLIC_BASE/$pkey")"

# 8. Signed DELETE; afterwards the public URL answers 404.
for k in "$key" "$pkey"; do
    code=$(swift_s3_curl DELETE "$MARKET_S3_BUCKET/$k" -o /dev/null -w '%{http_code}')
    check "signed DELETE $k" 204 "$code"
    code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$MARKET_S3_PUBLIC_BASE/$k")
    check "public GET after DELETE" 404 "$code"
done

if ((failures)); then
    echo "swift self-test: $failures check(s) failed" >&2
    exit 1
fi
echo "swift self-test: all checks passed"
