import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api.js';
import { ListingCard, More, Notice, Title, useSession } from '../ui.jsx';
import { NeedSignIn } from './auth.jsx';

export function Favorites() {
  const { user } = useSession();
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  async function load(from) {
    setBusy(true);
    try {
      const d = await api.get(`/users/me/favorites${from ? `?cursor=${encodeURIComponent(from)}` : ''}`);
      setItems((o) => (from ? [...o, ...d.items] : d.items));
      setCursor(d.next_cursor);
    } catch (x) { setErr(errorText(x)); } finally { setBusy(false); }
  }
  useEffect(() => { if (user) load(null); }, []);
  if (!user) return <NeedSignIn />;
  return (
    <section>
      <Title>Favourites</Title>
      <Notice>{err}</Notice>
      {!busy && items.length === 0 && <p>No favourites yet.</p>}
      <ul class="grid">{items.map((l) => <ListingCard key={l.id} l={l} />)}</ul>
      {cursor && <More onMore={() => !busy && load(cursor)} busy={busy} />}
    </section>
  );
}
