import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, attributesOf, categories, CITIES, CONDITIONS, errorText, fromMinor, toMinor } from '../api.js';
import { AttributeInput } from './sell.jsx';
import { Field, ListingCard, More, Notice, go, useSession } from '../ui.jsx';

const SORTS = [
  ['', 'Best match / newest'], ['newest', 'Newest'], ['relevance', 'Relevance (needs words)'],
  ['price_asc', 'Price, low to high'], ['price_desc', 'Price, high to low'], ['distance', 'Distance (needs a place)'],
];

// The hash query is the API's query (GET /listings parameters), so a search is a link.
function currentQuery() {
  const h = location.hash.replace(/^#/, '');
  return new URLSearchParams(h.includes('?') ? h.slice(h.indexOf('?') + 1) : '');
}

// The query comes from the router's route, not from location.hash read at render: a render
// between a hash change and the router's switch would read another view's query (e.g.
// #/offers?role=seller) and search with it.
export function Browse({ query = currentQuery() }) {
  const [cats, setCats] = useState([]);
  useEffect(() => { categories().then(setCats).catch(() => setCats([])); }, []);
  return (
    <section>
      <h1 class="visually-hidden">Browse listings</h1>
      <SearchForm query={query} cats={cats} />
      <Results query={query} />
    </section>
  );
}

function SearchForm({ query, cats }) {
  const { user } = useSession();
  const currency = query.get('currency') || 'EUR';
  const [v, setV] = useState(() => ({
    q: query.get('q') || '',
    category: query.get('category') || '',
    conditions: (query.get('condition') || '').split(',').filter(Boolean),
    min: query.get('min_price') ? fromMinor(Number(query.get('min_price')), currency) : '',
    max: query.get('max_price') ? fromMinor(Number(query.get('max_price')), currency) : '',
    currency: query.get('currency') || '',
    near: query.get('near') || '',
    radius: query.get('radius_km') || '',
    sort: query.get('sort') || '',
    attrs: Object.fromEntries([...query.entries()].filter(([k]) => k.startsWith('attr.')).map(([k, x]) => [k.slice(5), x])),
  }));
  const [geoMsg, setGeoMsg] = useState(null);
  const [err, setErr] = useState(null);
  const [saved, setSaved] = useState(null);
  const set = (k) => (e) => setV({ ...v, [k]: e.currentTarget.value });

  function build(over = {}) {
    const s = { ...v, ...over };
    const p = new URLSearchParams();
    if (s.q.trim()) p.set('q', s.q.trim());
    if (s.category) p.set('category', s.category);
    if (s.conditions.length) p.set('condition', s.conditions.join(','));
    const cur = s.currency || 'EUR';
    const mn = s.min !== '' ? toMinor(s.min, cur) : null;
    const mx = s.max !== '' ? toMinor(s.max, cur) : null;
    if (s.min !== '' && mn === null) return { error: 'The lowest price is not an amount.' };
    if (s.max !== '' && mx === null) return { error: 'The highest price is not an amount.' };
    if (mn !== null) p.set('min_price', mn);
    if (mx !== null) p.set('max_price', mx);
    if (s.currency) p.set('currency', s.currency);
    if (s.near) {
      p.set('near', s.near);
      if (s.radius) p.set('radius_km', s.radius);
    }
    for (const [k, x] of Object.entries(s.attrs)) if (x !== '' && x != null) p.set(`attr.${k}`, x);
    let sort = s.sort;
    if (sort === 'relevance' && !p.get('q')) sort = '';
    if (sort === 'distance' && !p.get('near')) sort = '';
    if (sort) p.set('sort', sort);
    return { query: p.toString() };
  }

  function submit(e, over) {
    e && e.preventDefault();
    const b = build(over);
    if (b.error) { setErr(b.error); return; }
    setErr(null);
    go(`#/?${b.query}`);
  }

  function nearMe() {
    setGeoMsg('Finding your position…');
    if (!navigator.geolocation) { setGeoMsg('Your browser gives no position: choose a city instead.'); return; }
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const near = `${pos.coords.latitude.toFixed(4)},${pos.coords.longitude.toFixed(4)}`;
        setGeoMsg(null);
        setV({ ...v, near });
        submit(null, { near, sort: v.sort || 'distance' });
      },
      () => setGeoMsg('Your position is not available: choose a city instead.'),
      { timeout: 10000, maximumAge: 600000 },
    );
  }

  async function saveSearch() {
    const b = build();
    if (b.error) { setErr(b.error); return; }
    try {
      await api.post('/users/me/saved-searches', { name: v.q.trim() || v.category || 'My search', query: b.query || 'sort=newest', alert: true });
      setSaved('Search saved. You will be notified of new matches.');
    } catch (x) {
      setErr(errorText(x));
    }
  }

  const attrs = v.category ? attributesOf(cats, v.category) : [];
  return (
    <form class="search" onSubmit={submit} role="search">
      <div class="searchbar">
        <Field label="Search for">{(id) => <input id={id} type="search" name="q" value={v.q} onInput={set('q')} placeholder="lamp, bike, iPhone…" />}</Field>
        <button type="submit">Search</button>
      </div>
      <details class="filters" open={window.innerWidth > 700}>
        <summary>Filters and sorting</summary>
        <div class="filter-grid">
          <Field label="Category">{(id) => (
            <select id={id} value={v.category} onChange={(e) => setV({ ...v, category: e.currentTarget.value, attrs: {} })}>
              <option value="">All categories</option>
              {cats.map((c) => <option value={c.slug}>{c.parent ? `— ${c.name}` : c.name}</option>)}
            </select>
          )}</Field>
          <fieldset>
            <legend>Condition</legend>
            {CONDITIONS.map(([k, name]) => (
              <label class="check"><input type="checkbox" checked={v.conditions.includes(k)}
                onChange={(e) => setV({ ...v, conditions: e.currentTarget.checked ? [...v.conditions, k] : v.conditions.filter((x) => x !== k) })} /> {name}</label>
            ))}
          </fieldset>
          <Field label="Lowest price">{(id) => <input id={id} inputMode="decimal" value={v.min} onInput={set('min')} />}</Field>
          <Field label="Highest price">{(id) => <input id={id} inputMode="decimal" value={v.max} onInput={set('max')} />}</Field>
          <Field label="Currency">{(id) => (
            <select id={id} value={v.currency} onChange={set('currency')}>
              <option value="">Any</option>
              {['EUR', 'GBP', 'CHF', 'PLN', 'SEK', 'DKK', 'NOK', 'CZK', 'HUF', 'USD'].map((c) => <option>{c}</option>)}
            </select>
          )}</Field>
          <Field label="Sort by">{(id) => (
            <select id={id} value={v.sort} onChange={set('sort')}>
              {SORTS.map(([k, name]) => <option value={k}>{name}</option>)}
            </select>
          )}</Field>
          <fieldset class="near">
            <legend>Near</legend>
            <button type="button" onClick={nearMe}>Near me</button>
            <Field label="or a city">{(id) => (
              <select id={id} value={CITIES.find((c) => `${c[2]},${c[3]}` === v.near) ? v.near : ''}
                onChange={(e) => setV({ ...v, near: e.currentTarget.value })}>
                <option value="">{v.near && !CITIES.find((c) => `${c[2]},${c[3]}` === v.near) ? 'My position' : 'Anywhere'}</option>
                {CITIES.map(([name, cc, lat, lon]) => <option value={`${lat},${lon}`}>{name} ({cc})</option>)}
              </select>
            )}</Field>
            <Field label="Within (km)">{(id) => <input id={id} type="number" min="1" max="20000" inputMode="numeric" value={v.radius} onInput={set('radius')} placeholder="25" />}</Field>
            {v.near && <button type="button" class="linklike" onClick={() => setV({ ...v, near: '' })}>Clear place</button>}
            <Notice kind="info">{geoMsg}</Notice>
          </fieldset>
          {attrs.length > 0 && (
            <fieldset class="attrs">
              <legend>Details</legend>
              {attrs.map((a) => (
                <AttributeInput a={a} optional value={v.attrs[a.name] ?? ''} onChange={(x) => setV({ ...v, attrs: { ...v.attrs, [a.name]: x } })} />
              ))}
            </fieldset>
          )}
        </div>
        <button type="submit">Apply</button>
        {user && <button type="button" class="secondary" onClick={saveSearch}>Save this search</button>}
      </details>
      <Notice>{err}</Notice>
      <Notice kind="info">{saved}</Notice>
    </form>
  );
}

function Results({ query }) {
  const qs = query.toString();
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(undefined);   // undefined: first page not loaded yet
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState(null);

  const load = useCallback(async (from) => {
    setBusy(true);
    try {
      const p = new URLSearchParams(qs);
      if (from) p.set('cursor', from);
      const d = await api.get(`/listings?${p}`);
      setItems((old) => (from ? [...old, ...d.items] : d.items));
      setCursor(d.next_cursor);
      setErr(null);
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  }, [qs]);

  useEffect(() => { load(null); }, [load]);
  const more = useCallback(() => { if (cursor && !busy) load(cursor); }, [cursor, busy, load]);

  return (
    <section aria-labelledby="results-h">
      <h2 id="results-h">{query.get('q') ? `Results for “${query.get('q')}”` : 'Latest listings'}</h2>
      <Notice>{err}</Notice>
      {cursor !== undefined && items.length === 0 && !err && <p>Nothing found. Try fewer words or filters.</p>}
      <ul class="grid" aria-busy={busy}>
        {items.map((l) => <ListingCard key={l.id} l={l} />)}
      </ul>
      {cursor && <More onMore={more} busy={busy} />}
    </section>
  );
}
