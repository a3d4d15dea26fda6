'use strict';
// Self and inclusive time per function of a .cpuprofile (node --cpu-prof, or upsert-bench's
// PROFILE=): the busy time (idle and program excluded) = 100 %.
//   node tools/prof-top.js FILE [ROWS]
const fs = require('node:fs');
const prof = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const rows = +(process.argv[3] || 30);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
for (const s of prof.samples) self.set(s, (self.get(s) || 0) + 1);
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
const name = (n) => `${n.callFrame.functionName || '(anon)'} ${(n.callFrame.url || '').split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
const selfBy = new Map();
const inclBy = new Map();
let busy = 0;
for (const [id, count] of self) {
  const n = byId.get(id);
  const fn = n.callFrame.functionName;
  if (fn === '(idle)' || fn === '(program)') continue;
  busy += count;
  selfBy.set(name(n), (selfBy.get(name(n)) || 0) + count);
  const seen = new Set();
  for (let p = id; p !== undefined; p = parent.get(p)) {
    const k = name(byId.get(p));
    if (seen.has(k)) continue;
    seen.add(k);
    inclBy.set(k, (inclBy.get(k) || 0) + count);
  }
}
const top = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, rows).map(([k, v]) => `${(100 * v / busy).toFixed(1).padStart(5)} %  ${k}`).join('\n');
console.log(`busy samples ${busy}\n-- self --\n${top(selfBy)}\n-- inclusive --\n${top(inclBy)}`);
