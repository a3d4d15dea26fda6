'use strict';
// A binary min-heap: `before(a, b)` is true when a comes out first. The best-first walks of the
// 2dsphere R-trees use it (planner.js knnScan by distance; geowalk.js by distance, then _id).

class Heap {
  constructor(before) {
    this.a = [];
    this.before = before;
  }

  get size() { return this.a.length; }

  push(e) {
    const { a, before } = this;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, a[p])) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = e;
  }

  pop() {
    const { a, before } = this;
    const top = a[0];
    const last = a.pop();
    if (a.length) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= a.length) break;
        if (c + 1 < a.length && before(a[c + 1], a[c])) c++;
        if (!before(a[c], last)) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

module.exports = { Heap };
