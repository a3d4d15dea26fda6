import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { api, conditionName, errorText, money } from './api.js';

// The signed-in user (or null) and its setter, for every view.
export const Session = createContext({ user: null, setUser: () => {}, refreshBadge: () => {} });
export const useSession = () => useContext(Session);

export function go(hash) {
  location.hash = hash;
}

let fieldSeq = 0;
export function useId(prefix = 'f') {
  const r = useRef(null);
  if (r.current === null) r.current = `${prefix}-${++fieldSeq}`;
  return r.current;
}

// A labelled control: <Field label="Title" error={...}>{(id, describedBy) => <input id={id} .../>}</Field>
export function Field({ label, error, hint, children }) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errId = error ? `${id}-err` : undefined;
  const describedBy = [hintId, errId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>{label}</label>
      {children(id, describedBy)}
      {hint && <small id={hintId}>{hint}</small>}
      {error && <small id={errId} class="error-text">{error}</small>}
    </div>
  );
}

// Errors and notices announced to screen readers.
export function Notice({ kind = 'error', children }) {
  if (!children) return null;
  return <p class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>{children}</p>;
}

export function Money({ minor, currency }) {
  return <span class="money">{money(minor, currency)}</span>;
}

export function Rating({ rating }) {
  if (!rating || !rating.count) return <span class="rating muted">No reviews yet</span>;
  return (
    <span class="rating" aria-label={`Rated ${rating.average} out of 5 from ${rating.count} review${rating.count === 1 ? '' : 's'}`}>
      <span aria-hidden="true">★ {Number(rating.average).toFixed(1)} ({rating.count})</span>
    </span>
  );
}

export function ListingCard({ l }) {
  const img = l.images && l.images[0];
  return (
    <li class="card">
      <a href={`#/listing/${l.id}`} class="card-link">
        {img ? (
          <img src={img.thumb_url || img.url} alt={`Photo of ${l.title}`} loading="lazy" width="320" height="240" />
        ) : (
          <div class="noimg" aria-hidden="true">No photo</div>
        )}
        <span class="card-title">{l.title}</span>
      </a>
      <span class="card-meta">
        <Money minor={l.price_minor} currency={l.currency} /> · {conditionName(l.condition)}
        {l.location && l.location.city ? ` · ${l.location.city}` : ''}
        {l.distance_km != null ? ` · ${l.distance_km.toFixed(1)} km` : ''}
      </span>
    </li>
  );
}

// Calls onMore when the sentinel scrolls into view (infinite scroll), and offers a button
// for keyboards and for browsers without IntersectionObserver.
export function More({ onMore, busy, label = 'Load more' }) {
  const ref = useRef(null);
  useEffect(() => {
    if (!('IntersectionObserver' in window) || !ref.current) return undefined;
    const io = new IntersectionObserver((es) => es.some((e) => e.isIntersecting) && onMore());
    io.observe(ref.current);
    return () => io.disconnect();
  }, [onMore]);
  return (
    <div ref={ref} class="more">
      <button type="button" onClick={onMore} disabled={busy}>{busy ? 'Loading…' : label}</button>
    </div>
  );
}

// One keyset list of the API, page by page: {items, setItems, cursor, err, busy, load}.
// load(null) reads the first page (also when deps change and enabled), load(cursor) appends.
export function usePages(path, enabled, deps) {
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  async function load(from) {
    setBusy(true);
    try {
      const sep = path.includes('?') ? '&' : '?';
      const d = await api.get(from ? `${path}${sep}cursor=${encodeURIComponent(from)}` : path);
      setItems((o) => (from ? [...o, ...d.items] : d.items));
      setCursor(d.next_cursor);
    } catch (x) { setErr(errorText(x)); } finally { setBusy(false); }
  }
  useEffect(() => { if (enabled) load(null); }, deps);
  return { items, setItems, cursor, err, busy, load };
}

// Loads data for a view; {data, error, reload}.
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => { live = false; };
  }, [...deps, n]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

// The page heading gets focus after navigation, so screen readers announce the new page.
export function Title({ children }) {
  const ref = useRef(null);
  useEffect(() => { ref.current && ref.current.focus(); document.title = `${ref.current ? ref.current.textContent : ''} – marketd`; }, []);
  return <h1 tabIndex={-1} ref={ref}>{children}</h1>;
}

export function When(ts) {
  return ts ? new Date(ts).toLocaleString() : '';
}
