'use strict';
// CPU per query of one query shape, in process, for the measuring tools (mix-cpu.js,
// geo-cpu.js): 3 warm-up runs, then `runs` runs with the profiler on.

/**
 * Runs fn(limit) (a page of 10–29, from rnd) `runs` times on srv; returns {ms (CPU per run,
 * process.cpuUsage), keys, docs (examined per run, from the profiler), results (per run),
 * queries (per run), plan (the first planSummary)}.
 */
function measure(srv, db, fn, runs, rnd) {
  if (global.gc) global.gc(); // node --expose-gc: the load's garbage is not collected during the runs
  for (let i = 0; i < 3; i++) fn(20);
  srv.ok(db, { profile: 2 });
  const c0 = process.cpuUsage();
  let n = 0;
  for (let i = 0; i < runs; i++) {
    const r = fn(10 + Math.floor(rnd() * 20));
    n += r && r.docs ? r.docs.length : 0;
  }
  const c = process.cpuUsage(c0);
  srv.ok(db, { profile: 0 });
  const prof = srv.all(db, { find: 'system.profile', filter: { ns: `${db}.listings` } }).docs;
  srv.ok(db, { drop: 'system.profile' });
  return {
    ms: (c.user + c.system) / 1000 / runs,
    keys: prof.reduce((a, e) => a + Number(e.keysExamined), 0) / runs,
    docs: prof.reduce((a, e) => a + Number(e.docsExamined), 0) / runs,
    results: n / runs,
    queries: prof.length / runs,
    plan: prof[0] && prof[0].planSummary,
  };
}

module.exports = { measure };
