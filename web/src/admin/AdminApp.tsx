import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../shared/errors';
import { ErrorMessage, Field, Notice, Page, useSubmit } from '../shared/ui';
import { api, session } from './api';
import { Dashboard } from './Dashboard';

export function AdminApp() {
  const [loggedIn, setLoggedIn] = useState(session.active);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  useEffect(() => {
    session.onEnded = (error) => {
      setLoggedIn(false);
      setNotice(describeError(error));
    };
  }, []);

  const logout = async () => {
    // The session ends on the server (its access token with it); the tokens are dropped here
    // even when the server cannot be reached.
    await api
      .call((client) => client.POST('/api/v1/admin/auth/logout', { body: undefined }))
      .catch(() => undefined);
    session.end();
    setLoggedIn(false);
    setNotice('You are logged out.');
  };

  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.querySelector<HTMLElement>('main h1')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="bar">
        <span class="brand">Notes — operator console</span>
        {loggedIn && (
          <button type="button" class="secondary" onClick={() => void logout()}>
            Log out
          </button>
        )}
      </header>
      {loggedIn ? (
        <Dashboard />
      ) : (
        <LoginPage
          notice={notice}
          onLoggedIn={() => {
            setNotice(undefined);
            setLoggedIn(true);
          }}
        />
      )}
    </>
  );
}

function LoginPage(props: { notice?: string; onLoggedIn: () => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const form = useSubmit(async () => {
    session.start(
      await api.call((client) =>
        client.POST('/api/v1/admin/auth/login', { body: { email, password } }),
      ),
    );
    props.onLoggedIn();
  });
  return (
    <Page title="Operator login">
      {props.notice && <Notice>{props.notice}</Notice>}
      <form class="card" onSubmit={form.onSubmit}>
        <ErrorMessage error={form.error} />
        <Field
          label="Email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onValue={setEmail}
        />
        <Field
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onValue={setPassword}
        />
        <div class="actions">
          <button type="submit" disabled={form.busy}>
            Log in
          </button>
        </div>
      </form>
    </Page>
  );
}
