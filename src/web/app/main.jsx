import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import './style.css';
import { api, ApiError } from './api.js';
import { Session } from './ui.jsx';
import { SignIn, SignUp } from './views/auth.jsx';
import { Browse } from './views/browse.jsx';
import { ListingView } from './views/listing.jsx';
import { Sell } from './views/sell.jsx';
import { Buy } from './views/buy.jsx';
import { Orders } from './views/orders.jsx';
import { Offers } from './views/offers.jsx';
import { Notifications } from './views/notifications.jsx';
import { SavedSearches } from './views/saved.jsx';
import { Profile } from './views/profile.jsx';
import { Favorites } from './views/favorites.jsx';

// Hash routes (#/listing/ID …): nginx serves one index.html at /, every other path stays
// the API's, and shared links to a listing use its server-rendered page /l/ID.
const ROUTES = [
  [/^\/$/, (m, q) => <Browse query={q} />],
  [/^\/signin$/, () => <SignIn />],
  [/^\/signup$/, () => <SignUp />],
  [/^\/listing\/([0-9a-f-]{36})$/i, (m) => <ListingView id={m[1]} />],
  [/^\/listing\/([0-9a-f-]{36})\/edit$/i, (m) => <Sell id={m[1]} />],
  [/^\/sell$/, () => <Sell />],
  [/^\/buy\/([0-9a-f-]{36})$/i, (m, q) => <Buy listingId={m[1]} offerId={q.get('offer')} />],
  [/^\/orders$/, (m, q) => <Orders role={q.get('role') || 'buyer'} />],
  [/^\/offers$/, (m, q) => <Offers role={q.get('role') || 'buyer'} />],
  [/^\/notifications$/, () => <Notifications />],
  [/^\/saved$/, () => <SavedSearches />],
  [/^\/favorites$/, () => <Favorites />],
  [/^\/users\/([0-9a-f-]{36})$/i, (m) => <Profile id={m[1]} />],
];

function parseHash() {
  const h = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = h.split('?');
  return { path, query };
}

const USER_KEY = 'marketd.user';   // a hint that a session cookie exists; the cookie is HttpOnly

function App() {
  const [route, setRoute] = useState(parseHash());
  const [user, setUserState] = useState(() => {
    try { return JSON.parse(localStorage.getItem(USER_KEY)); } catch { return null; }
  });
  const [unread, setUnread] = useState(0);

  const setUser = useCallback((u) => {
    if (u) localStorage.setItem(USER_KEY, JSON.stringify(u)); else localStorage.removeItem(USER_KEY);
    setUserState(u);
  }, []);

  // refreshBadge() reads the count; refreshBadge(n) sets it after this tab's own write (marking
  // read): the list is read from the read model, which may show the write a moment later.
  // badge: the read in flight, cancelled by signing out (sent after the session's end it was
  // answered 401, a console error on every sign-out that raced a route change).
  const badge = useRef({ req: null, closing: false });
  const refreshBadge = useCallback((known) => {
    if (!user || badge.current.closing) { setUnread(0); return; }
    if (typeof known === 'number') { setUnread(known); return; }
    if (badge.current.req) badge.current.req.abort();
    const req = new AbortController();
    badge.current.req = req;
    api.get('/users/me/notifications?unread=true', { signal: req.signal })
      .then((d) => setUnread(d.unread_count || 0))
      .catch((e) => { if (e.code !== 'aborted') setUnread(0); })
      .finally(() => { if (badge.current.req === req) badge.current.req = null; });
  }, [user && user.id]);

  useEffect(() => {
    const on = () => { setRoute(parseHash()); window.scrollTo(0, 0); };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);

  // Check the hint against the server once: an expired session clears it.
  useEffect(() => {
    if (!user) return;
    api.get('/users/me').then((d) => setUser(d.user)).catch((e) => {
      if (e instanceof ApiError && e.status === 401) setUser(null);
    });
  }, []);

  useEffect(() => {
    refreshBadge();
    if (!user) return undefined;
    const t = setInterval(refreshBadge, 30000);
    return () => clearInterval(t);
  }, [user && user.id, route.path]);

  const q = new URLSearchParams(route.query);
  let view = <NotFound />;
  for (const [re, make] of ROUTES) {
    const m = route.path.match(re);
    if (m) { view = make(m, q); break; }
  }

  async function signOut() {
    // Nothing of the badge's may reach the server once the session is gone.
    badge.current.closing = true;
    if (badge.current.req) badge.current.req.abort();
    try { await api.del('/sessions/current'); } catch { /* already gone */ }
    badge.current.closing = false;
    setUser(null);
    location.hash = '#/';
  }

  return (
    <Session.Provider value={{ user, setUser, refreshBadge }}>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
      <header class="top">
        <a class="brand" href="#/">marketd</a>
        <nav aria-label="Main">
          <ul>
            <li><a href="#/">Browse</a></li>
            {user ? (
              <>
                <li><a href="#/sell">Sell</a></li>
                <li><a href="#/favorites">Favourites</a></li>
                <li><a href="#/orders">Orders</a></li>
                <li><a href="#/offers">Offers</a></li>
                <li><a href="#/saved">Saved searches</a></li>
                <li>
                  <a href="#/notifications" aria-label={`Notifications, ${unread} unread`}>
                    Notifications{unread > 0 && <span class="badge" aria-hidden="true">{unread}</span>}
                  </a>
                </li>
                <li><a href={`#/users/${user.id}`}>{user.display_name}</a></li>
                <li><button type="button" class="linklike" onClick={signOut}>Sign out</button></li>
              </>
            ) : (
              <>
                <li><a href="#/signin">Sign in</a></li>
                <li><a href="#/signup">Sign up</a></li>
              </>
            )}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <div key={route.path + route.query}>{view}</div>
      </main>
    </Session.Provider>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p><a href="#/">Browse listings</a></p>
    </section>
  );
}

const root = document.getElementById('app');
root.textContent = '';   // the boot message of index.html
render(<App />, root);
