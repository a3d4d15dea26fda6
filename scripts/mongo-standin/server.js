#!/usr/bin/env node
'use strict';
/*
 * mongo-standin: a MongoDB wire-protocol server for development and tests ONLY.
 * Production uses a real MongoDB 6+ replica set; nothing here is meant to replace it.
 *
 * Usage: node server.js [--host 127.0.0.1] [--port 28117] [--reply-cache-mb 32]
 * --reply-cache-mb: the bound of the cache of records' encoded BSON that replies are copied
 * from (lib/replycache.js; 0 turns it off; default 32, or STANDIN_REPLY_CACHE_MB).
 * Prints "mongo-standin listening on HOST:PORT" on stdout when ready, logs errors to stderr,
 * exits cleanly on SIGTERM / SIGINT.
 *
 * Supports (speaking as a standalone mongod 6.0, maxWireVersion 17, to drivers such as
 * libmongoc 1.23): OP_QUERY hello/isMaster handshake (OP_REPLY), OP_MSG with document
 * sequences, checksum and moreToCome flags; hello, ping, buildInfo, endSessions, insert, find,
 * getMore, killCursors, update (operators, replacement, pipeline, upsert, multi,
 * arrayFilters), delete, findAndModify, count, distinct, aggregate (mingo pipeline stages,
 * $geoNear and $match/$text as first stage, $lookup), createIndexes, listIndexes,
 * dropIndexes, listCollections, listDatabases, create, drop, dropDatabase, renameCollection,
 * serverStatus, dbStats. Unique indexes (including _id) raise E11000; $text with textScore;
 * $near / $nearSphere / $geoWithin / $geoNear over GeoJSON points (haversine, 6378100 m).
 * BSON numeric types (int32, int64, double) are stored and returned exactly as sent.
 *
 * Behaves like mongod where that catches mistakes: unknown command fields fail (40415),
 * $near inside an aggregation $match fails, $text together with $near fails, $geoNear must
 * be the first stage, $text needs a text index and $near a geo index.
 *
 * Indexes: every index createIndexes declares has a structure (lib/indexes.js: a B+ tree for
 * ascending/descending/compound/multikey/unique/sparse/partial/hashed keys, an R-tree for
 * 2dsphere), and a planner (lib/planner.js) picks one by MongoDB's equality-sort-range rule
 * for find, count, distinct, the filters of update/delete/findAndModify and aggregations that
 * start with $match or $geoNear; hint is honoured. An index only selects candidates: every
 * candidate passes the same matcher. explain (queryPlanner.winningPlan in MongoDB's shape)
 * and the profiler (profile command, system.profile with planSummary) show the plans.
 *
 * Does not support: persistence (data lives in memory only), transactions (refused with
 * code 20 like a standalone), authentication, TLS, compression, change streams, $out/$merge,
 * views, collations other than "simple" (refused), text stemming, geodesic polygon edges,
 * index use for $text, 2d and $or. Documents over 16 MiB and a getMore after a drop are
 * refused as mongod refuses them. Benchmarks of uncached reads measure this stand-in (one
 * Node thread), not MongoDB.
 */

const fs = require('fs');
const net = require('net');
const { Store } = require('./lib/store');
const { CursorRegistry } = require('./lib/cursors');
const { runCommand } = require('./lib/commands');
const wire = require('./lib/wire');
const replyCache = require('./lib/replycache');

function parseArgs(argv) {
  const opts = { host: '127.0.0.1', port: 28117, socket: null, replyCacheMb: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${arg}`);
      return argv[++i];
    };
    if (arg === '--host') opts.host = value();
    else if (arg === '--port') opts.port = Number(value());
    else if (arg === '--socket') opts.socket = value();
    else if (arg === '--reply-cache-mb') opts.replyCacheMb = Number(value());
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: node server.js [--host 127.0.0.1] [--port 28117] [--socket PATH] [--reply-cache-mb 32]\n');
      process.exit(0);
    } else throw new Error(`unknown argument: ${arg}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error(`invalid port: ${opts.port}`);
  if (opts.replyCacheMb !== null && !(opts.replyCacheMb >= 0 && opts.replyCacheMb <= 4096)) {
    throw new Error(`invalid --reply-cache-mb: ${opts.replyCacheMb} (0 to 4096)`);
  }
  return opts;
}

const log = (msg) => process.stderr.write(`mongo-standin: ${msg}\n`);

/*
 * Garbage after bulk loads: V8 keeps the garbage of a load and a heap it sized for its peak
 * until its next major GC, which an idle server does not reach by itself (its memory reducer
 * runs only after a major GC), so RSS would not follow the data held (tools/bench.js
 * --rss-only: 5.8 KB per listing at 100k with no collection forced, 3.8 with them).
 *
 * Until issue 19's ninth pass a full GC was forced (`gc()`) after every 256 MB received and
 * 2 s after the last message: an atomic mark-compact with this thread stopped, 0.9 s during a
 * 100k rebuild and 1.8-5.1 s when idle, which every read and write waited out; the idle one
 * followed any 1 MB received (a burst of 2,000 listings, a few hundred reads), and "idle" was
 * counted from a message's arrival, so a batch that took 2 s under load was followed by one.
 *
 * Now nothing is forced: after every 16 MB of write commands received, and 2 s after the last
 * command *ended* with no message since (if 1 MB of writes came), the server only starts V8's own
 * incremental collection, in its memory-reducing mode (the one V8's memory reducer uses: it
 * compacts): for one minor GC (a scavenge of the young generation, milliseconds) the flags
 * --stress-incremental-marking and --optimize-for-size are on, so that the scavenge's end
 * starts incremental marking (as V8 does at its allocation limit) with the reduce-memory flag;
 * then both are off again. The marking runs concurrently and in small steps between commands,
 * and its final pause is V8's own (tens to a few hundred ms at 100k under load, not seconds).
 * A collection already under way is left to finish. Each start is logged with the minor GC's
 * pause.
 *
 * During a load one is started after every GC_EVERY_BYTES received (the forced ones came
 * every 256 MB, and, through the idle timer's bug, after nearly every command of a load on a
 * busy machine): with the idle start alone the heap reached about twice the live data in a
 * 100k load (7.3 KB per listing right after it, 4.9 settled); a start every 64 MB left 4.8
 * KB, every 32 MB 5.2, every 16 MB 4.2 (tools/bench.js --docs 100000 --rss-only, one run
 * each on a loaded machine). A lower --heap-growing-percent (10) kept it at 3.6 KB but doubled
 * the CPU of a load and of a burst (a major GC every 10 % of growth): not kept.
 *
 * And right after an index build over a filled collection (BULK_INDEX_DOCS records or more:
 * the end of a rebuild, which builds the browse indexes last). The rebuild's garbage (the heap
 * at 1 GB for 540 MB live at 100k) otherwise waited for the next start, which came with the
 * first 16 MB received afterwards, seconds into live traffic: marking the whole live heap then
 * slowed every command for most of a second (the lag's stall after a rebuild: p99 0.6-0.7 s,
 * every write of one 0.8 s window waiting, the marking's 735 ms wall time exactly; issue 19's
 * eleventh pass). Started at the build's end, the marking runs while the projector finishes
 * the rebuild, and each start resets the 16 MB count.
 *
 * Only write commands count (issue 19, thirteenth pass). A read leaves young garbage only
 * (its reply, its plan's scratch), which scavenges take; counting reads too started a marking
 * of the whole heap every 16 MB of queries: at 100k listings every ~23,000 browse pages (9 s
 * of scripts/bench's every-page-new row), each about 1 CPU-second of the stand-in's (its
 * helper thread's included), and one more 2 s after every read-only run. The old generation
 * a read leaves (reply-cache entries: a bounded ring) is V8's own allocation limit's to
 * collect. STANDIN_GC_EVERY_MB sets the threshold (tests; default 16).
 */
const GC_EVERY_BYTES = (Number(process.env.STANDIN_GC_EVERY_MB) > 0 ? Number(process.env.STANDIN_GC_EVERY_MB) : 16) * 1024 * 1024;
const GC_IDLE_MS = 2000;
const GC_IDLE_MIN_BYTES = 1024 * 1024;

/*
 * No marking task: this thread marks only in the steps V8 takes inside allocations (issue 19,
 * sixteenth pass). With V8's incremental-marking task (its default), an incremental marking
 * runs on this thread in 1 ms tasks between events, back to back, for as long as the marking
 * lasts, and the steps inside commands are sized to keep a schedule of about half a second:
 * at 100k listings this thread marked 690-775 ms of a marking's 0.9-1.1 s, and the
 * projector's writes waited it out (the read-model lag's stall: worst write 0.14-0.5 s with a
 * marking in a 30 s run of market_lag --rate 100). Without the task the concurrent marker (the
 * V8 helper thread, --v8-pool-size=1) does most of it: 66-255 ms of steps on this thread over
 * 1.2-2.5 s, worst write 14-213 ms in 22 such runs. The marking takes longer; the heap grows
 * meanwhile by what a second or two of writes allocates.
 *
 * The task also finished a marking on an idle server: without it, only a step sees that the
 * concurrent marker is done and asks for the marking's end (its atomic pause, at this
 * thread's next JavaScript), and only allocation takes steps; a server that receives nothing
 * allocates nothing (a marking started at idle took 17-20 s to end, on what a timer's
 * callbacks allocate, and the memory reducer's markings after a load did not end in 30 s of
 * quiet: RSS settled at 4,095 instead of 3,868 bytes per listing in tools/bench.js --rss-only).
 * So while a marking is under way (perf_hooks' gc entries: one of kind INCREMENTAL when a
 * marking starts, whoever starts it, one of kind MAJOR when it ends), a timer runs every
 * GC_POKE_MS (GC_POKE_MAX_MS at most per marking), and when no command came since its last run
 * it allocates GC_POKE_SLOTS slots of garbage (128 KB, more than V8's 64 KB between steps):
 * a step of marking per run while the server is idle, as the task would take
 * (test/gcpolicy.test.js: a marking started at idle ends within 10 s).
 */
const GC_POKE_MS = 50;
const GC_POKE_MAX_MS = 60000;
const GC_POKE_SLOTS = 16384; // 128 KB
const loadGc = (() => {
  const v8 = require('v8');
  const { PerformanceObserver, constants } = require('perf_hooks');
  let gc = null;
  try {
    v8.setFlagsFromString('--expose-gc');
    v8.setFlagsFromString('--no-incremental-marking-task');
    gc = require('vm').runInNewContext('gc');
  } catch (_) {
    gc = null;
  }
  let poke = null; // {tick, cap} while a marking is under way
  let active = false; // a command came since the poke's last run
  let garbage = null; // the poke's allocation is stored here (then dropped) so that no compiler drops it
  const pokeTick = () => {
    if (!active) garbage = new Array(GC_POKE_SLOTS).fill(0);
    active = false;
    garbage = null;
  };
  const stopPoke = () => {
    if (!poke) return;
    clearInterval(poke.tick);
    clearTimeout(poke.cap);
    poke = null;
  };
  const startPoke = () => {
    if (poke) return;
    poke = { tick: setInterval(pokeTick, GC_POKE_MS), cap: setTimeout(stopPoke, GC_POKE_MAX_MS) };
    poke.tick.unref();
    poke.cap.unref();
  };
  if (gc) {
    const { NODE_PERFORMANCE_GC_INCREMENTAL: MARKING, NODE_PERFORMANCE_GC_MAJOR: MAJOR } = constants;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = e.detail ? e.detail.kind : 0;
        if (kind === MARKING) startPoke();
        else if (kind === MAJOR) stopPoke();
      }
    }).observe({ entryTypes: ['gc'] });
  }
  let bytes = 0; // received since the last start
  let total = 0; // received since the last GC_EVERY_BYTES start
  let timer = null;
  const start = (why) => {
    bytes = 0;
    total = 0;
    const t0 = process.hrtime.bigint();
    v8.setFlagsFromString('--stress-incremental-marking --optimize-for-size');
    try {
      gc({ type: 'minor' });
    } finally {
      v8.setFlagsFromString('--no-stress-incremental-marking --no-optimize-for-size');
    }
    log(`incremental GC started (${why}): ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`);
  };
  const idle = () => {
    timer = null;
    if (bytes >= GC_IDLE_MIN_BYTES) start(`${GC_IDLE_MS} ms idle`);
  };
  const received = (n) => {
    if (!gc) return;
    active = true;
    bytes += n;
    total += n;
    if (total >= GC_EVERY_BYTES) {
      total = 0;
      setImmediate(start, `${GC_EVERY_BYTES >> 20} MB of writes received`);
    }
    // One timer, pushed back after each command (refresh): a new Timeout per message was
    // garbage and a timer-list insertion on every query.
    if (timer) {
      timer.refresh();
      return;
    }
    timer = setTimeout(idle, GC_IDLE_MS);
    timer.unref();
  };
  // After a command that ends a bulk load (commands.js: an index build over a filled
  // collection, the last step of a rebuild), at once.
  received.startSoon = (why) => {
    if (gc) setImmediate(start, why);
  };
  return received;
})();

/*
 * STANDIN_CPU_PROF_DIR=DIR: each SIGUSR2 starts, the next stops, a CPU profile of the running
 * server (node:inspector on this thread), written to DIR/standin-PID-N.cpuprofile (Chrome's
 * DevTools, tools/prof-top.js), with V8's --trace-gc lines on stdout meanwhile: a profile of one
 * burst or rebuild of a filled stand-in, which `node --cpu-prof` (a profile from start to exit)
 * does not isolate. Not a test facility.
 */
function profileOnSignal(dir) {
  const inspector = require('node:inspector');
  const path = require('node:path');
  let session = null;
  let n = 0;
  process.on('SIGUSR2', () => {
    if (!session) {
      session = new inspector.Session();
      session.connect();
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: 500 });
      session.post('Profiler.start');
      require('v8').setFlagsFromString('--trace-gc'); // each GC on stdout (the stack's mongo.log) while profiled
      log(`cpu profile started`);
      return;
    }
    const s = session;
    session = null;
    require('v8').setFlagsFromString('--no-trace-gc');
    s.post('Profiler.stop', (err, r) => {
      const file = path.join(dir, `standin-${process.pid}-${++n}.cpuprofile`);
      if (err) log(`cpu profile: ${err.message}`);
      else fs.writeFileSync(file, JSON.stringify(r.profile));
      log(`cpu profile written to ${file}`);
      s.disconnect();
    });
  });
}

function main() {
  if (process.env.STANDIN_CPU_PROF_DIR) profileOnSignal(process.env.STANDIN_CPU_PROF_DIR);
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    log(e.message);
    process.exit(2);
  }
  if (opts.replyCacheMb !== null) replyCache.configure(opts.replyCacheMb * 1024 * 1024);

  const ctx = {
    store: new Store(),
    cursors: new CursorRegistry(),
    connections: new Set(),
    startedAt: Date.now(),
    log,
  };
  let nextConnectionId = 1;

  /*
   * --socket PATH: a unix socket beside the TCP port (as mongod's /tmp/mongodb-27017.sock), the
   * same server on both. The stack's marketd uses it: a browse page's reply (~17 KB) skips
   * loopback TCP (about 5 % less CPU per uncached page for the whole stack; README, "Twelfth
   * pass").
   */
  const serve = (socket) => {
    socket.setNoDelay(true); // a no-op on a unix socket
    // A unix socket's peer has no address (mongod says "anonymous unix socket" there too).
    const remote = socket.remoteAddress === undefined ? 'anonymous unix socket' : `${socket.remoteAddress}:${socket.remotePort}`;
    const conn = { id: nextConnectionId++, remote };
    // rawReplies: find and aggregate results leave as stored BSON, undecoded (lib/bsonwrite.js);
    // replies are written into the connection's reused buffer (wire.js ReplyBuffers).
    const out = new wire.ReplyBuffers();
    const connCtx = { ...ctx, conn, rawReplies: true, allocReply: out.alloc, collectSoon: loadGc.startSoon };
    const reader = new wire.MessageReader();
    ctx.connections.add(socket);
    socket.on('close', () => ctx.connections.delete(socket));
    socket.on('error', () => {}); // a client vanishing is not our problem
    socket.on('data', (chunk) => {
      let messages;
      try {
        messages = reader.push(chunk);
      } catch (e) {
        log(`connection ${conn.id}: ${e.message}; closing`);
        socket.destroy();
        return;
      }
      for (const buf of messages) {
        let reply;
        try {
          reply = handleMessage(connCtx, buf);
        } catch (e) {
          log(`connection ${conn.id}: bad message: ${e.message}; closing`);
          socket.destroy();
          return;
        }
        if (reply) {
          socket.write(reply);
          out.released(socket.writableLength > 0);
        }
        // After the command (its own time is not quiet); only a write's bytes count
        // (runCommand sets ctx.wrote from its table, lib/commands.js READS).
        loadGc(connCtx.wrote ? buf.length : 0);
      }
    });
  };
  const failed = (e) => {
    log(`server error: ${e.message}`);
    process.exit(1);
  };
  const server = net.createServer(serve).on('error', failed);
  let unixServer = null;
  if (opts.socket) {
    // A socket file left by a killed server is removed (a live server's too: the stack's
    // scripts start one stand-in per var folder, and its TCP port is checked first).
    try {
      fs.unlinkSync(opts.socket);
    } catch (_) {
      /* none */
    }
    unixServer = net.createServer(serve).on('error', failed);
    unixServer.listen(opts.socket, () => process.stdout.write(`mongo-standin listening on ${opts.socket}\n`));
  }

  server.listen(opts.port, opts.host, () => {
    const addr = server.address();
    process.stdout.write(`mongo-standin listening on ${opts.host}:${addr.port}\n`);
  });

  const shutdown = () => {
    server.close();
    if (unixServer) unixServer.close(); // removes the socket file
    ctx.cursors.close();
    for (const s of ctx.connections) s.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/** Handles one framed message; returns the reply buffer or null (moreToCome). */
function handleMessage(ctx, buf) {
  const msg = wire.parseMessage(buf);
  ctx.wrote = false; // runCommand's to say otherwise
  if (msg.unsupported) {
    if (msg.opCode === wire.OP_QUERY) {
      return wire.buildOpReply(msg.requestID, {
        $err: `Unsupported OP_QUERY on ${msg.fullName}. The client driver may require an upgrade.`,
        code: 5739101,
        ok: 0,
      }, true);
    }
    throw new Error(`unsupported opcode ${msg.opCode}`);
  }
  const reply = runCommand(ctx, msg.command, msg.db);
  if (msg.moreToCome) return null;
  const build = msg.legacy ? (id, doc) => wire.buildOpReply(id, doc, false, ctx.allocReply)
    : (id, doc) => wire.buildMsgReply(id, doc, ctx.allocReply);
  try {
    return build(msg.requestID, reply);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return build(msg.requestID, {
      ok: 0, errmsg: 'BSONObj size: reply exceeds the maximum BSON size of 16 MiB', code: 10334, codeName: 'BSONObjectTooLarge',
    });
  }
}

if (require.main === module) main();

module.exports = { parseArgs, handleMessage };
