import { useEffect, useState } from 'preact/hooks';
import { ApiError, describeError } from '../shared/errors';
import { navigate, Notice, useRoute } from '../shared/ui';
import { api, Me, session } from './api';
import { LoginPage } from './LoginPage';
import { MembersPage } from './MembersPage';
import { NotesPage } from './NotesPage';
import { SignupPage } from './SignupPage';
import { VerifyPage } from './VerifyPage';

const PUBLIC_ROUTES = ['/login', '/signup', '/verify'];

export function App() {
  const route = useRoute();
  const [me, setMe] = useState<Me | undefined>(undefined);
  // A reload keeps the refresh token (sessionStorage): find out who we are before showing pages.
  const [restoring, setRestoring] = useState(session.active);
  const [notice, setNotice] = useState<string | undefined>(undefined);

  useEffect(() => {
    session.onEnded = (error: ApiError) => {
      setMe(undefined);
      setNotice(describeError(error));
      navigate('/login');
    };
    if (!session.active) return;
    api
      .call((client) => client.GET('/api/v1/auth/me'))
      .then((answer) => setMe(answer))
      .catch(() => session.end())
      .finally(() => setRestoring(false));
  }, []);

  if (restoring) return <p role="status">Loading…</p>;

  const onLoggedIn = (who: Me) => {
    setMe(who);
    setNotice(undefined);
    navigate('/notes');
  };
  const logout = async () => {
    await api
      .call((client) => client.POST('/api/v1/auth/logout', { body: {} }))
      .catch(() => undefined);
    session.end();
    setMe(undefined);
    setNotice('You are logged out.');
    navigate('/login');
  };

  if (!me || PUBLIC_ROUTES.includes(route)) {
    return (
      <>
        <a class="skip" href="#main" onClick={(event) => skipToMain(event)}>
          Skip to content
        </a>
        <header class="bar">
          <span class="brand">Notes</span>
          <nav aria-label="Account">
            <ul>
              <li>
                <a href="#/login" aria-current={route === '/login' ? 'page' : undefined}>
                  Log in
                </a>
              </li>
              <li>
                <a href="#/signup" aria-current={route === '/signup' ? 'page' : undefined}>
                  Sign up or join
                </a>
              </li>
              <li>
                <a href="#/verify" aria-current={route === '/verify' ? 'page' : undefined}>
                  Confirm email
                </a>
              </li>
            </ul>
          </nav>
        </header>
        {notice && route === '/login' && (
          <div class="page">
            <Notice>{notice}</Notice>
          </div>
        )}
        {route === '/signup' ? (
          <SignupPage onLoggedIn={onLoggedIn} />
        ) : route === '/verify' ? (
          <VerifyPage />
        ) : (
          <LoginPage onLoggedIn={onLoggedIn} />
        )}
      </>
    );
  }

  return (
    <>
      <a class="skip" href="#main" onClick={(event) => skipToMain(event)}>
        Skip to content
      </a>
      <header class="bar">
        <span class="brand">Notes — {me.tenant.name}</span>
        <nav aria-label="Main">
          <ul>
            <li>
              <a href="#/notes" aria-current={route !== '/members' ? 'page' : undefined}>
                Notes
              </a>
            </li>
            <li>
              <a href="#/members" aria-current={route === '/members' ? 'page' : undefined}>
                Members
              </a>
            </li>
          </ul>
        </nav>
        <span class="who">
          {me.user.username} ({me.user.role})
        </span>
        <button type="button" class="secondary" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      {route === '/members' ? <MembersPage me={me} /> : <NotesPage me={me} />}
    </>
  );
}

/** The skip link moves the focus without changing the hash, which is the router's. */
function skipToMain(event: Event): void {
  event.preventDefault();
  document.querySelector<HTMLElement>('main h1')?.focus();
}
