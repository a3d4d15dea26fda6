import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api.js';
import { ListingCard, More, Notice, Rating, Title, useLoad, When } from '../ui.jsx';

export function Profile({ id }) {
  const { data: u, error } = useLoad(() => api.get(`/users/${id}`).then((d) => d.user), [id]);
  if (error) return <Notice>{error.status === 404 ? 'No such user.' : errorText(error)}</Notice>;
  if (!u) return <p aria-busy="true">Loading…</p>;
  return (
    <section>
      <Title>{u.display_name}</Title>
      <p><Rating rating={u.rating} /> · member since {new Date(u.member_since).toLocaleDateString()} · {u.active_listings} active listing{u.active_listings === 1 ? '' : 's'}</p>
      {u.bio && <p class="desc">{u.bio}</p>}
      <Paged title="Reviews" path={`/users/${id}/reviews`} render={(r) => (
        <li class="box review-item">
          <strong aria-label={`${r.rating} out of 5`}>{'★'.repeat(r.rating)}{'☆'.repeat(5 - r.rating)}</strong> by {r.reviewer.display_name}
          <small> · {When(r.created_at)}</small>
          {r.comment && <p>{r.comment}</p>}
        </li>
      )} listClass="list" empty="No reviews yet." />
      <Paged title="Listings" path={`/users/${id}/listings`} render={(l) => <ListingCard key={l.id} l={l} />} listClass="grid" empty="No active listings." />
    </section>
  );
}

function Paged({ title, path, render, listClass, empty }) {
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(true);
  async function load(from) {
    setBusy(true);
    try {
      const d = await api.get(`${path}${from ? `?cursor=${encodeURIComponent(from)}` : ''}`);
      setItems((o) => (from ? [...o, ...d.items] : d.items));
      setCursor(d.next_cursor);
    } catch (x) { setErr(errorText(x)); } finally { setBusy(false); }
  }
  useEffect(() => { load(null); }, [path]);
  const hid = `h-${title.toLowerCase()}`;
  return (
    <section aria-labelledby={hid}>
      <h2 id={hid}>{title}</h2>
      <Notice>{err}</Notice>
      {!busy && !err && items.length === 0 && <p>{empty}</p>}
      <ul class={listClass}>{items.map(render)}</ul>
      {cursor && <More onMore={() => !busy && load(cursor)} busy={busy} />}
    </section>
  );
}
