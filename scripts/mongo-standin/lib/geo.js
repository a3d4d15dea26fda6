'use strict';
// Geospatial helpers on views: points, haversine distances, $geoWithin shapes and the
// $near / $nearSphere / $geoNear distance computation.

const { fail } = require('./errors');
const { isPlainObject, valuesAtPath } = require('./typed');

const EARTH_RADIUS_M = 6378100; // the radius MongoDB uses for GeoJSON distances
const RAD = Math.PI / 180;

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);

/** [x, y] of a GeoJSON Point, a legacy [x, y] pair or a legacy {a: x, b: y} document; else null. */
function pointOf(v) {
  if (Array.isArray(v)) return v.length >= 2 && isNum(v[0]) && isNum(v[1]) ? [v[0], v[1]] : null;
  if (!isPlainObject(v)) return null;
  if (v.type === 'Point' && Array.isArray(v.coordinates)) return pointOf(v.coordinates);
  if (v.type !== undefined) return null;
  const vals = Object.values(v);
  return vals.length >= 2 && isNum(vals[0]) && isNum(vals[1]) ? [vals[0], vals[1]] : null;
}

/** All points stored at a path of a document (a field may hold several). */
function pointsAt(doc, path) {
  // Read the raw value first: valuesAtPath would flatten a legacy [x, y] pair into two numbers.
  const p = pointOf(rawAt(doc, path));
  if (p) return [p];
  const pts = [];
  for (const v of valuesAtPath(doc, path)) {
    const q = pointOf(v);
    if (q) pts.push(q);
  }
  return pts;
}

function rawAt(doc, path) {
  if (path.indexOf('.') < 0) return isPlainObject(doc) ? doc[path] : undefined; // no split for a top-level field
  let node = doc;
  for (const part of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** Great-circle distance in radians between two [lng, lat] points in degrees. */
function sphericalRadians(a, b) {
  return sphericalTo(a, b[0], b[1]);
}

/** sphericalRadians(a, [x, y]), the same arithmetic, without the array. */
function sphericalTo(a, x, y) {
  const dLat = (y - a[1]) * RAD;
  const dLng = (x - a[0]) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * RAD) * Math.cos(y * RAD) * Math.sin(dLng / 2) ** 2;
  return 2 * Math.asin(Math.min(1, Math.sqrt(h)));
}

const planar = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);

/** Even-odd point-in-ring test on [x, y] coordinates. */
function inRing(p, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > p[1]) !== (yj > p[1]) && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(p, rings) {
  if (!rings.length || !inRing(p, rings[0])) return false;
  for (let i = 1; i < rings.length; i++) if (inRing(p, rings[i])) return false;
  return true;
}

/** Compiles a $geoWithin / $geoIntersects argument into a point predicate. */
function compileShape(spec) {
  if (!isPlainObject(spec)) throw fail('BadValue', '$geoWithin not an object');
  if (spec.$centerSphere) {
    const [center, radius] = spec.$centerSphere;
    const c = pointOf(center);
    if (!c || !isNum(radius)) throw fail('BadValue', 'malformed $centerSphere');
    return (p) => sphericalRadians(c, p) <= radius;
  }
  if (spec.$center) {
    const [center, radius] = spec.$center;
    const c = pointOf(center);
    if (!c || !isNum(radius)) throw fail('BadValue', 'malformed $center');
    return (p) => planar(c, p) <= radius;
  }
  if (spec.$box) {
    const [a, b] = spec.$box.map(pointOf);
    if (!a || !b) throw fail('BadValue', 'malformed $box');
    const [x0, x1] = [Math.min(a[0], b[0]), Math.max(a[0], b[0])];
    const [y0, y1] = [Math.min(a[1], b[1]), Math.max(a[1], b[1])];
    return (p) => p[0] >= x0 && p[0] <= x1 && p[1] >= y0 && p[1] <= y1;
  }
  if (spec.$polygon) {
    const ring = spec.$polygon.map(pointOf);
    if (ring.some((x) => !x) || ring.length < 3) throw fail('BadValue', 'malformed $polygon');
    return (p) => inRing(p, ring);
  }
  if (spec.$geometry) {
    const g = spec.$geometry;
    if (g.type === 'Polygon') {
      const rings = g.coordinates.map((r) => r.map(pointOf));
      return (p) => inPolygon(p, rings);
    }
    if (g.type === 'MultiPolygon') {
      const polys = g.coordinates.map((poly) => poly.map((r) => r.map(pointOf)));
      return (p) => polys.some((rings) => inPolygon(p, rings));
    }
    if (g.type === 'Point') {
      const c = pointOf(g);
      return (p) => p[0] === c[0] && p[1] === c[1];
    }
    throw fail('BadValue', `unsupported $geometry type for the stand-in: ${g.type}`);
  }
  throw fail('BadValue', `unknown geo specifier: ${Object.keys(spec)[0]}`);
}

/** mingo query operator for $geoWithin (and $geoIntersects with a polygon, for point fields). */
function geoWithinOperator(selector, value) {
  const contains = compileShape(value);
  return (obj) => {
    const pts = pointsAt(obj, selector);
    return pts.length > 0 && pts.some(contains);
  };
}

/**
 * Parses a $near / $nearSphere clause ({field: {$near: ..., $maxDistance: ...}}) or a $geoNear
 * stage into {field, point, spherical, legacy, min, max}. Distances are meters for GeoJSON
 * points, radians for legacy points with spherical geometry, coordinate units otherwise.
 */
function parseNear(field, op, clause) {
  const arg = clause[op];
  let point;
  let legacy;
  let max = clause.$maxDistance;
  let min = clause.$minDistance;
  if (isPlainObject(arg) && arg.$geometry) {
    point = pointOf(arg.$geometry);
    legacy = false;
    if (arg.$maxDistance !== undefined) max = arg.$maxDistance;
    if (arg.$minDistance !== undefined) min = arg.$minDistance;
  } else if (isPlainObject(arg) && arg.type === 'Point') {
    point = pointOf(arg);
    legacy = false;
  } else {
    point = pointOf(arg);
    legacy = true;
  }
  if (!point) throw fail('BadValue', `invalid point in geo near query ${op}`);
  if (max !== undefined && (!isNum(max) || max < 0)) throw fail('BadValue', '$maxDistance must be a non-negative number');
  if (min !== undefined && (!isNum(min) || min < 0)) throw fail('BadValue', '$minDistance must be a non-negative number');
  const spherical = !legacy || op === '$nearSphere';
  return { field, point, legacy, spherical, max, min };
}

/** Distance function for a parsed near clause; returns the nearest distance of a doc or null. */
function distanceFn(near) {
  const unit = near.legacy ? 1 : EARTH_RADIUS_M;
  const metric = near.spherical ? (a, b) => sphericalRadians(a, b) * unit : planar;
  const bounded = (best) => {
    if (best === null) return null;
    if (near.max !== undefined && best > near.max) return null;
    if (near.min !== undefined && best < near.min) return null;
    return best;
  };
  const fn = (doc) => {
    let best = null;
    const raw = rawAt(doc, near.field);
    const c = isPlainObject(raw) && raw.type === 'Point' ? raw.coordinates : null;
    if (Array.isArray(c) && c.length >= 2 && isNum(c[0]) && isNum(c[1])) {
      best = metric(near.point, c); // a GeoJSON point (pointsAt's first case), read in place
    } else {
      for (const p of pointsAt(doc, near.field)) {
        const d = metric(near.point, p);
        if (best === null || d < best) best = d;
      }
    }
    return bounded(best);
  };
  // fn(doc) of a document whose only point is (x, y) (a 2dsphere index's SoloItem holds it),
  // without reading the document: the same arithmetic as fn's on that point.
  if (near.spherical) fn.atPoint = (x, y) => bounded(sphericalTo(near.point, x, y) * unit);
  return fn;
}

module.exports = {
  EARTH_RADIUS_M, pointOf, pointsAt, rawAt, sphericalRadians, compileShape, geoWithinOperator,
  parseNear, distanceFn,
};
