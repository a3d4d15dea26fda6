// The API client: same origin, the session in the HttpOnly `sid` cookie (the browser adds
// the Origin header the API wants on cookie-authenticated writes).

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || 'network';
    this.fields = e.fields || {};
  }
}

// Read-your-writes (API.md, X-Event-Seq / X-Min-Seq): the outbox position of this tab's last
// write to a listing, so the next read of that listing waits until the read model has it.
const seqs = new Map();
const listingOf = (path) => (path.match(/^\/listings\/([0-9a-f-]{36})/) || [])[1];

// fetch JSON: api('GET', '/listings?q=x'), api('POST', '/orders', {body, headers}).
// Resolves to {data, headers, status}; rejects with ApiError (status 0 = no answer; code
// 'aborted' when `signal` cancelled it).
export async function call(method, path, { body, headers = {}, signal } = {}) {
  const h = { Accept: 'application/json', ...headers };
  const lid = listingOf(path);
  if (method === 'GET' && lid && seqs.has(lid) && /^\/listings\/[0-9a-f-]{36}$/.test(path)) h['X-Min-Seq'] = seqs.get(lid);
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch {
    if (signal && signal.aborted) throw new ApiError(0, { error: { code: 'aborted', message: 'Cancelled.' } });
    throw new ApiError(0, { error: { code: 'network', message: 'The server could not be reached. Check your connection and try again.' } });
  }
  let data = null;
  if (res.status !== 204 && res.status !== 304) {
    const text = await res.text();
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  const seq = res.headers.get('X-Event-Seq');
  const written = lid || (data && data.listing && data.listing.id) || (data && data.order && data.order.listing_id);
  if (seq && method !== 'GET' && written) seqs.set(written, seq);
  return { data, headers: res.headers, status: res.status };
}

export const api = {
  get: (p, o) => call('GET', p, o).then((r) => r.data),
  post: (p, body, o = {}) => call('POST', p, { ...o, body }).then((r) => r.data),
  patch: (p, body, o = {}) => call('PATCH', p, { ...o, body }).then((r) => r.data),
  del: (p) => call('DELETE', p).then((r) => r.data),
};

// Money: integer minor units + ISO 4217 code; never floats in what we send.
export function digits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

export function money(minor, currency) {
  if (minor == null || !currency) return '';
  const d = digits(currency);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(minor / 10 ** d);
  } catch {
    return `${(minor / 10 ** d).toFixed(d)} ${currency}`;
  }
}

// "19.99" in EUR → 1999; null when it is not an amount of that currency.
export function toMinor(text, currency) {
  const d = digits(currency);
  const m = String(text).trim().replace(',', '.').match(d > 0 ? new RegExp(`^(\\d+)(?:\\.(\\d{1,${d}}))?$`) : /^(\d+)$/);
  if (!m) return null;
  return Number(m[1]) * 10 ** d + Number((m[2] || '').padEnd(d, '0') || 0);
}

export function fromMinor(minor, currency) {
  const d = digits(currency);
  return d ? (minor / 10 ** d).toFixed(d) : String(minor);
}

// PUT a file to a pre-signed upload URL with the ticket's headers, reporting progress
// (0..1). XMLHttpRequest, because fetch cannot report upload progress. The browser sets
// Content-Length (and Host) itself; setting them is refused, so they are skipped.
export function upload(ticket, file, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open(ticket.method || 'PUT', ticket.upload_url);
    for (const [k, v] of Object.entries(ticket.headers || {})) {
      if (!/^(content-length|host)$/i.test(k)) x.setRequestHeader(k, v);
    }
    x.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    x.onload = () => (x.status >= 200 && x.status < 300 ? resolve() : reject(new ApiError(x.status, { error: { message: `The store refused the upload (HTTP ${x.status}).` } })));
    x.onerror = () => reject(new ApiError(0, { error: { message: 'The upload was interrupted. Try again.' } }));
    x.send(file);
  });
}

export function errorText(e) {
  if (!(e instanceof ApiError)) return String(e && e.message || e);
  const f = Object.entries(e.fields || {});
  return f.length ? `${e.message}: ${f.map(([k, v]) => `${k} ${v}`).join('; ')}` : e.message;
}

export const CONDITIONS = [
  ['new', 'New'], ['like_new', 'Like new'], ['good', 'Good'], ['fair', 'Fair'], ['poor', 'Poor'],
];
export const conditionName = (c) => (CONDITIONS.find(([k]) => k === c) || [c, c])[1];

// The "near me" fallback when the browser gives no position.
export const CITIES = [
  ['Amsterdam', 'NL', 52.3676, 4.9041], ['Athens', 'GR', 37.9838, 23.7275], ['Barcelona', 'ES', 41.3874, 2.1686],
  ['Berlin', 'DE', 52.52, 13.405], ['Brussels', 'BE', 50.8503, 4.3517], ['Budapest', 'HU', 47.4979, 19.0402],
  ['Copenhagen', 'DK', 55.6761, 12.5683], ['Dublin', 'IE', 53.3498, -6.2603], ['Hamburg', 'DE', 53.5511, 9.9937],
  ['Helsinki', 'FI', 60.1699, 24.9384], ['Lisbon', 'PT', 38.7223, -9.1393], ['London', 'GB', 51.5072, -0.1276],
  ['Lyon', 'FR', 45.764, 4.8357], ['Madrid', 'ES', 40.4168, -3.7038], ['Milan', 'IT', 45.4642, 9.19],
  ['Munich', 'DE', 48.1351, 11.582], ['Oslo', 'NO', 59.9139, 10.7522], ['Paris', 'FR', 48.8566, 2.3522],
  ['Prague', 'CZ', 50.0755, 14.4378], ['Rome', 'IT', 41.9028, 12.4964], ['Stockholm', 'SE', 59.3293, 18.0686],
  ['Vienna', 'AT', 48.2082, 16.3738], ['Warsaw', 'PL', 52.2297, 21.0122], ['Zurich', 'CH', 47.3769, 8.5417],
];

// Categories with their attribute schemas, fetched once.
let cats;
export function categories() {
  cats = cats || api.get('/categories').then((d) => d.categories).catch((e) => { cats = null; throw e; });
  return cats;
}

// A category's attributes, its ancestors' included (a listing is validated against both).
export function attributesOf(all, slug) {
  const out = [];
  const seen = new Set();
  for (let c = all.find((x) => x.slug === slug); c && !seen.has(c.slug); c = all.find((x) => x.slug === c.parent)) {
    seen.add(c.slug);
    out.unshift(...(c.attributes || []).map((a) => ({ ...a, from: c.name })));
  }
  return out;
}
