'use strict';
// Demo-like `listings` read-model documents (the shape src/projector/listing.c writes), from
// a seeded generator: for memory and speed measurements of the stand-in.

const { Long, Double, Int32 } = require('bson');

/** mulberry32: a small seeded PRNG (deterministic runs). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ('bike city road frame steel carbon wheel tyre light brake gear saddle chain pedal sofa table chair ' +
  'lamp desk shelf oak walnut vintage modern leather cotton wool jacket coat boots dress shirt phone laptop camera ' +
  'lens tripod guitar piano drum violin amp speaker vinyl record book novel comic poster print frame mirror rug ' +
  'kettle toaster blender mixer oven pan pot knife fork spoon plate bowl mug glass bottle tent stove lantern rope ' +
  'ski board helmet glove jersey ball racket net bat club bag backpack wallet watch ring necklace bracelet').split(' ');
const CATEGORIES = [
  ['vehicles', 'vehicles/bicycles'], ['home', 'home/furniture'], ['home', 'home/kitchen'], ['fashion', 'fashion/men'],
  ['fashion', 'fashion/women'], ['electronics', 'electronics/phones'], ['electronics', 'electronics/cameras'],
  ['music', 'music/instruments'], ['sports', 'sports/outdoor'], ['books', 'books/fiction'],
];
const CONDITIONS = ['new', 'like_new', 'good', 'fair'];
const CITIES = [['Berlin', 'DE', 52.52, 13.405], ['Paris', 'FR', 48.857, 2.352], ['Madrid', 'ES', 40.417, -3.704],
  ['Rome', 'IT', 41.902, 12.496], ['Vienna', 'AT', 48.208, 16.373], ['Warsaw', 'PL', 52.23, 21.012],
  ['Lisbon', 'PT', 38.722, -9.139], ['Oslo', 'NO', 59.914, 10.752]];

function uuid(r) {
  const h = () => Math.floor(r() * 0x10000).toString(16).padStart(4, '0');
  return `${h()}${h()}-${h()}-4${h().slice(1)}-a${h().slice(1)}-${h()}${h()}${h()}`;
}

/** Generates `n` listing documents for `sellers` sellers; returns {docs, sellerIds}. */
function demoListings(n, { seed = 1, sellers = Math.max(1, Math.floor(n / 20)) } = {}) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const sellerIds = Array.from({ length: sellers }, () => uuid(r));
  const names = sellerIds.map((_, i) => `Seller ${i}`);
  const docs = [];
  const t0 = 1700000000000000;
  for (let i = 0; i < n; i++) {
    const cat = pick(CATEGORIES);
    const title = Array.from({ length: 2 + Math.floor(r() * 4) }, () => pick(WORDS));
    const desc = Array.from({ length: 20 + Math.floor(r() * 40) }, () => pick(WORDS));
    const keywords = [...new Set([...title, ...desc])];
    const city = pick(CITIES);
    const lat = city[2] + (r() - 0.5) * 0.6;
    const lon = city[3] + (r() - 0.5) * 0.9;
    const s = Math.floor(r() * sellers);
    const created = t0 + i * 1000003;
    const id = uuid(r);
    const iso = new Date(created / 1000).toISOString();
    const doc = {
      _id: id, id, seller_id: sellerIds[s],
      title: title.join(' '), description: desc.join(' ') + '.',
      category: cat[1].split('/')[1], category_path: cat,
      condition: pick(CONDITIONS), price_minor: Long.fromNumber(500 + Math.floor(r() * 200000)), currency: 'EUR',
      location: { city: city[0], country: city[1], lat: new Double(lat), lon: new Double(lon) },
      attributes: { brand: pick(WORDS), colour: pick(['red', 'blue', 'black', 'white', 'green']) },
      status: r() < 0.9 ? 'active' : pick(['sold', 'draft']),
      created_at: iso, updated_at: iso, created_us: Long.fromNumber(created),
      images: i % 10 === 9 ? [{ id: uuid(r), status: 'ready', url: `https://media.example.test/${id}/0.jpg`,
        thumb_url: `https://media.example.test/${id}/0-thumb.jpg`, width: new Int32(1200), height: new Int32(900) }] : [],
      title_words: [...new Set(title)], keywords,
      geo: { type: 'Point', coordinates: [new Double(lon), new Double(lat)] },
      seller: { id: sellerIds[s], display_name: names[s], rating: { average: null, count: Long.fromNumber(0) } },
      favorites: Long.fromNumber(0), version: Long.fromNumber(1), seq: Long.fromNumber(i + 1),
    };
    docs.push(doc);
  }
  return { docs, sellerIds, words: WORDS, categories: CATEGORIES, cities: CITIES };
}

/**
 * The projector's versioned upsert of listing `doc` as event `seq` (src/projector/projections.c:
 * {_id, version: {$lt}}, $set of the fields, $setOnInsert of favorites and views, as listing.c).
 */
function versionedUpsert(doc, seq) {
  const { _id, favorites, views, ...fields } = doc;
  fields.version = Long.fromNumber(1);
  fields.seq = Long.fromNumber(seq);
  return { q: { _id, version: { $lt: Long.fromNumber(1) } }, u: { $set: fields, $setOnInsert: { favorites: Long.fromNumber(0), views: Long.fromNumber(0) } }, upsert: true };
}

/** The indexes marketd's ensure_indexes declares on `listings` (src/projector/listing.c). */
const LISTING_INDEXES = [
  { key: { status: 1, category_path: 1, created_us: -1 }, name: 'status_category_created' },
  { key: { status: 1, created_us: -1 }, name: 'status_created' },
  { key: { status: 1, price_minor: 1, _id: 1 }, name: 'status_price_id' },
  { key: { seller_id: 1, status: 1, created_us: -1 }, name: 'seller_status_created' },
  { key: { status: 1, geo: '2dsphere' }, name: 'status_geo' },
  { key: { status: 1, keywords: 1, geo: '2dsphere' }, name: 'status_keywords_geo' },
  { key: { status: 1, title_words: 1, created_us: -1, _id: -1 }, name: 'status_title_created' },
  { key: { status: 1, keywords: 1, created_us: -1, _id: -1 }, name: 'status_keywords_created' },
  { key: { status: 1, category_path: 1, sold_us: 1 }, name: 'status_category_sold', partialFilterExpression: { status: 'sold' } },
].map((i) => ({ ...i, key: Object.fromEntries(Object.entries(i.key).map(([k, v]) => [k, typeof v === 'number' ? new Int32(v) : v])) }));

/** The listing indexes a rebuild keeps from its start (src/projector/listing.c); the others are
 * created when it completes. */
const REBUILD_INDEXES = ['seller_status_created', 'status_geo'];

const L = (n) => new Int32(n);
// The listing fields browse shows and its cursor keys (src/query/readmodel.c LISTING_FIELDS).
const BROWSE_PROJECT = Object.fromEntries(['id', 'seller_id', 'title', 'description', 'category', 'condition',
  'price_minor', 'currency', 'location', 'attributes', 'images', 'status', 'version', 'created_at', 'updated_at',
  'seller', 'favorites', 'views', 'created_us', 'dist_m'].map((k) => [k, new Int32(1)]));
const NEWEST = { created_us: L(-1), _id: L(-1) };

/**
 * The search mix's commands as src/query/browse.c sends them (wire-cpu.js, test/replycache.test.js):
 * {shape name: (query number) => command}, a deterministic function of the number.
 */
function browseMix(data) {
  const { sellerIds, categories, cities, words } = data;
  const agg = (pipeline) => ({ aggregate: 'listings', pipeline, cursor: {} });
  const minp = (i) => ({ $gte: Long.fromNumber(1 + (i * 37) % 99) });
  const lim = (i) => L(11 + (i * 13) % 20);
  return {
    'category + newest': (i) => agg([{ $match: { status: 'active', category_path: categories[i % categories.length][0], price_minor: minp(i) } }, { $sort: NEWEST }, { $limit: lim(i) }]),
    'one word, top tier': (i) => { const w = words[(i * 7) % words.length]; return agg([{ $match: { status: 'active', keywords: { $all: [w] }, price_minor: minp(i), title_words: { $all: [w] } } }, { $sort: NEWEST }, { $limit: lim(i) }]); },
    'price range by price': (i) => { const lo = 1000 + (i * 7919) % 49000; return agg([{ $match: { status: 'active', price_minor: { $gte: Long.fromNumber(lo), $lte: Long.fromNumber(lo + 1000 + (i * 104729) % 99000) } } }, { $sort: { price_minor: L(1), _id: L(1) } }, { $limit: lim(i) }]); },
    'near a city, by distance': (i) => { const c = cities[i % cities.length]; return agg([{ $geoNear: { near: { type: 'Point', coordinates: [new Double(c[3] + ((i % 11) - 5) * 0.02), new Double(c[2] + ((i % 7) - 3) * 0.02)] }, distanceField: 'dist_m', maxDistance: new Double(1000 * (5 + (i * 31) % 195)), spherical: true, key: 'geo', query: { status: 'active', keywords: { $all: [words[(i * 3) % words.length]] }, price_minor: minp(i) } } }, { $sort: { dist_m: L(1), _id: L(1) } }, { $limit: lim(i) }]); },
    "a seller's listings": (i) => agg([{ $match: { status: 'active', seller_id: sellerIds[(i * 7919) % sellerIds.length], price_minor: minp(i) } }, { $sort: NEWEST }, { $limit: lim(i) }]),
    'attribute filter': (i) => agg([{ $match: { status: 'active', category_path: categories[i % categories.length][1], 'attributes.colour': ['red', 'blue'][i % 2], price_minor: minp(i) } }, { $sort: NEWEST }, { $limit: lim(i) }]),
  };
}

module.exports = { rng, demoListings, versionedUpsert, LISTING_INDEXES, REBUILD_INDEXES, BROWSE_PROJECT, browseMix };
