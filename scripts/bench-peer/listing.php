<?php
// The PHP-FPM peer of scripts/bench: marketd's Redis-hit read of GET /listings/{id}, written
// as a PHP shop would (phpredis with a persistent connection, opcache), behind the same nginx.
// It reads the same Redis entry marketd writes ("SEQ ETAG\n" + body), honours X-Min-Seq and
// If-None-Match the same way, counts the view as API.md's "Insights" asks and marketd does
// (query/views.c: the anonymous viewer is BLAKE2b-128 of the client address, a newline and the
// User-Agent; PFADD to the listing-day's HyperLogLog and SADD to views:dirty, in one pipelined
// round trip, as phpredis does it), and answers a miss with 503 (the peer serves hits only).
$id = $_GET['id'] ?? '';
header('Content-Type: application/json');
if (!preg_match('/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/', $id)) {
    http_response_code(404);
    echo '{"error":{"code":"not_found","message":"no such listing"}}';
    return;
}
$redis = new Redis();
$redis->pconnect($_SERVER['MARKET_REDIS_SOCKET']);
$entry = $redis->get('cache:listing:' . $id);
$nl = $entry === false ? false : strpos($entry, "\n");
$sp = $entry === false ? false : strpos($entry, ' ');
if ($nl === false || $sp === false || $sp > $nl || (int) substr($entry, 0, $sp) < (int) ($_SERVER['HTTP_X_MIN_SEQ'] ?? 0)) {
    http_response_code(503);
    echo '{"error":{"code":"unavailable","message":"not in the cache"}}';
    return;
}
$etag = substr($entry, $sp + 1, $nl - $sp - 1);
if (strpos($entry, '"seller_id":"', $nl) !== false && $_SERVER['REQUEST_METHOD'] !== 'HEAD') {
    $viewer = sodium_bin2hex(sodium_crypto_generichash(
        ($_SERVER['REMOTE_ADDR'] ?? '') . "\n" . ($_SERVER['HTTP_USER_AGENT'] ?? ''), '', 16));
    $day = gmdate('Ymd');
    $redis->multi(Redis::PIPELINE)
        ->pfAdd("views:$id:$day", [$viewer])
        ->sAdd('views:dirty', "$id:$day")
        ->exec();
}
header('ETag: ' . $etag);
header('Cache-Control: no-cache');
if (($_SERVER['HTTP_IF_NONE_MATCH'] ?? '') === $etag) {
    http_response_code(304);
    return;
}
echo substr($entry, $nl + 1);
