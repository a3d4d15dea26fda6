import { ListingCard, More, Notice, Title, usePages, useSession } from '../ui.jsx';
import { NeedSignIn } from './auth.jsx';

export function Favorites() {
  const { user } = useSession();
  const { items, cursor, err, busy, load } = usePages('/users/me/favorites', !!user, []);
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
