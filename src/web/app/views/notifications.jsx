import { useEffect, useState } from 'preact/hooks';
import { api, errorText, money } from '../api.js';
import { More, Notice, Title, useSession, When } from '../ui.jsx';
import { NeedSignIn } from './auth.jsx';

const TEXT = {
  order_placed: 'Your item was bought', order_shipped: 'Your order was shipped', order_delivered: 'The buyer confirmed delivery',
  order_cancelled: 'An order was cancelled', offer_received: 'You received an offer', offer_countered: 'Your offer was countered',
  offer_accepted: 'Your offer was accepted', offer_declined: 'Your offer was declined', offer_expired: 'An offer expired',
  review_received: 'You received a review', price_dropped: 'A favourite dropped its price', favorite_sold: 'A favourite was sold',
  saved_search_match: 'New listings match your saved search',
};

function link(n) {
  const d = n.data || {};
  if (d.order_id) return `#/orders?role=${/placed|delivered|review/.test(n.type) ? 'seller' : 'buyer'}`;
  if (d.offer_id) return `#/offers?role=${n.type === 'offer_received' ? 'seller' : 'buyer'}`;
  if (d.listing_id) return `#/listing/${d.listing_id}`;
  if (d.listing_ids && d.listing_ids.length) return `#/listing/${d.listing_ids[0]}`;
  return '#/notifications';
}

export function Notifications() {
  const { user, refreshBadge } = useSession();
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [unread, setUnread] = useState(0);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  async function load(from) {
    setBusy(true);
    try {
      const d = await api.get(`/users/me/notifications${from ? `?cursor=${encodeURIComponent(from)}` : ''}`);
      setItems((o) => (from ? [...o, ...d.items] : d.items));
      setCursor(d.next_cursor);
      setUnread(d.unread_count || 0);
    } catch (x) { setErr(errorText(x)); } finally { setBusy(false); }
  }
  useEffect(() => { if (user) load(null); }, []);
  if (!user) return <NeedSignIn />;
  async function markAll() {
    try {
      await api.post('/users/me/notifications/read', { all: true });
      setItems((xs) => xs.map((x) => ({ ...x, read: true })));
      setUnread(0);
      refreshBadge(0);
    } catch (x) { setErr(errorText(x)); }
  }
  async function open(n) {
    if (!n.read) {
      const left = Math.max(0, unread - 1);
      api.post('/users/me/notifications/read', { ids: [n.id] }).then(() => { setUnread(left); refreshBadge(left); }).catch(() => {});
    }
  }
  return (
    <section>
      <Title>Notifications</Title>
      <p>{unread} unread {unread > 0 && <button type="button" class="secondary" onClick={markAll}>Mark all as read</button>}</p>
      <Notice>{err}</Notice>
      {!busy && !err && items.length === 0 && <p>Nothing yet.</p>}
      <ul class="list">
        {items.map((n) => (
          <li class={`box${n.read ? '' : ' unread'}`}>
            <a href={link(n)} onClick={() => open(n)}>
              {!n.read && <span class="visually-hidden">Unread: </span>}
              {TEXT[n.type] || n.type}
              {n.type === 'price_dropped' && n.data ? ` (${money(n.data.old_price_minor, n.data.currency || 'EUR')} → ${money(n.data.new_price_minor, n.data.currency || 'EUR')})` : ''}
            </a>
            <small> · {When(n.created_at)}</small>
          </li>
        ))}
      </ul>
      {cursor && <More onMore={() => !busy && load(cursor)} busy={busy} />}
    </section>
  );
}
