import { api, errorText } from '../api.js';
import { Notice, Title, useLoad, useSession } from '../ui.jsx';
import { NeedSignIn } from './auth.jsx';

export function SavedSearches() {
  const { user } = useSession();
  const { data, error, reload } = useLoad(() => (user ? api.get('/users/me/saved-searches').then((d) => d.items) : Promise.resolve([])), []);
  if (!user) return <NeedSignIn />;
  async function remove(id) {
    try { await api.del(`/users/me/saved-searches/${id}`); reload(); } catch (x) { alert(errorText(x)); }
  }
  return (
    <section>
      <Title>Saved searches</Title>
      <p>Save a search from the Browse page's filters; new matches arrive as notifications.</p>
      <Notice>{error && errorText(error)}</Notice>
      {data && data.length === 0 && <p>No saved searches yet.</p>}
      <ul class="list">
        {(data || []).map((s) => (
          <li class="box">
            <a href={`#/?${s.query}`}>{s.name}</a> <small>{s.query}{s.alert ? ' · alerts on' : ''}</small>
            <button type="button" class="linklike" onClick={() => remove(s.id)}>Delete “{s.name}”</button>
          </li>
        ))}
      </ul>
    </section>
  );
}
