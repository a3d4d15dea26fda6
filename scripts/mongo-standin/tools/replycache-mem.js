#!/usr/bin/env node
'use strict';
/*
 * What the reply cache (lib/replycache.js) holds per cached listing, in process (not a test):
 *   node --expose-gc tools/replycache-mem.js [N]
 * N demo listings (seed 42), every one read once through browse's $project in batches of
 * 1000 (each batch serialized, as for the wire); prints the entries, their bytes in the ring,
 * the heap their bookkeeping takes per entry and the RSS growth. The cache's bound is
 * STANDIN_REPLY_CACHE_MB (default 32).
 */
const { newServer } = require('../test/helpers');
const replyCache = require('../lib/replycache');
const { demoListings, LISTING_INDEXES, BROWSE_PROJECT } = require('./demo-docs');
const { Int32 } = require('bson');
const n = +(process.argv[2] || 20000);
const srv = newServer(); srv.ctx.rawReplies = true;
const { docs } = demoListings(n, { seed: 42 });
srv.ok('m', { insert: 'listings', documents: docs });
const gc = () => { global.gc(); global.gc(); };
gc(); const h0 = process.memoryUsage().heapUsed; const r0 = process.memoryUsage().rss;
const c = replyCache.cache;
const batchSize = new Int32(1000);
const r = srv.run('m', { aggregate: 'listings', pipeline: [{ $match: {} }, { $project: BROWSE_PROJECT }], cursor: { batchSize } });
let id = r.cursor.id;
const { serializeReply } = require('../lib/wire');
serializeReply(r);
while (!id.isZero()) { const m = srv.run('m', { getMore: id, collection: 'listings', batchSize }); serializeReply(m); id = m.cursor.id; }
gc(); const h1 = process.memoryUsage().heapUsed; const r1 = process.memoryUsage().rss;
const st = c.status();
console.log(`${n} listings: ${st.liveEntries} entries, ${(st.liveBytes/1048576).toFixed(1)} MB of bytes (${(st.liveBytes/st.liveEntries).toFixed(0)} B each), heap +${((h1-h0)/st.liveEntries).toFixed(0)} B per entry, RSS +${((r1-r0)/1048576).toFixed(1)} MB, evicted ${st.evicted}`);
srv.close();
