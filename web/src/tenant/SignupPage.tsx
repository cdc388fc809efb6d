import { useState } from 'preact/hooks';
import { ErrorMessage, Field, navigate, Notice, Page, useSubmit } from '../shared/ui';
import { api, Me, session } from './api';

type Mode = 'create' | 'join';

/**
 * A new organisation (you become its owner), or joining one with an invitation code. Then the
 * user is logged in at once; an unconfirmed email gets a reminder to confirm it, and a membership
 * that waits for the mailbox (`loginOpen: false`) sends them to the confirmation page instead.
 */
export function SignupPage(props: { onLoggedIn: (me: Me) => void }) {
  const [mode, setMode] = useState<Mode>('create');
  const [tenantName, setTenantName] = useState('');
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [inviteCode, setInviteCode] = useState('');
  const [waiting, setWaiting] = useState(false);

  const form = useSubmit(async () => {
    const registered = await api.call((client) =>
      client.POST('/api/v1/auth/register', {
        body: {
          tenantName,
          username,
          email,
          password,
          ...(mode === 'join' ? { inviteCode } : {}),
        },
      }),
    );
    if (!registered.account.loginOpen) {
      setWaiting(true);
      return;
    }
    const answer = await api.call((client) =>
      client.POST('/api/v1/auth/login', {
        body: { email, password, tenant: registered.tenant.id },
      }),
    );
    session.start(answer);
    if (!registered.account.emailVerified) {
      sessionStorage.setItem('notes.unverified', email);
    }
    props.onLoggedIn({ user: answer.user, tenant: answer.tenant });
  });

  if (waiting) {
    return (
      <Page title="Confirm your email">
        <Notice>
          This email has an account that is not confirmed yet. We mailed a token to {email}: confirm
          it and your membership of {tenantName} opens.
        </Notice>
        <button type="button" onClick={() => navigate('/verify')}>
          Enter the token
        </button>
      </Page>
    );
  }

  return (
    <Page title={mode === 'create' ? 'Sign up' : 'Join an organisation'}>
      <form class="card" onSubmit={form.onSubmit}>
        <ErrorMessage error={form.error} />
        <fieldset>
          <legend>What would you like to do?</legend>
          <label>
            <input
              type="radio"
              name="mode"
              checked={mode === 'create'}
              onChange={() => setMode('create')}
            />{' '}
            Create a new organisation
          </label>
          <label>
            <input
              type="radio"
              name="mode"
              checked={mode === 'join'}
              onChange={() => setMode('join')}
            />{' '}
            Join one with an invitation code
          </label>
        </fieldset>
        <Field
          label="Organisation name"
          required
          minLength={2}
          maxLength={100}
          value={tenantName}
          onValue={setTenantName}
          hint={mode === 'join' ? 'The organisation that invited you.' : undefined}
        />
        {mode === 'join' && (
          <Field
            label="Invitation code"
            required
            autoComplete="off"
            value={inviteCode}
            onValue={setInviteCode}
          />
        )}
        <Field
          label="Username"
          required
          minLength={3}
          maxLength={32}
          autoComplete="nickname"
          hint="3 to 32 of a–z, 0–9, _ . -"
          value={username}
          onValue={setUsername}
        />
        <Field
          label="Email"
          type="email"
          required
          autoComplete="email"
          value={email}
          onValue={setEmail}
        />
        <Field
          label="Password"
          type="password"
          required
          minLength={8}
          autoComplete="new-password"
          hint="At least 8 characters, not a common password. If this email already has an account, use its password."
          value={password}
          onValue={setPassword}
        />
        <div class="actions">
          <button type="submit" disabled={form.busy}>
            {mode === 'create' ? 'Create organisation' : 'Join'}
          </button>
          <a href="#/login">Already a member? Log in</a>
        </div>
      </form>
    </Page>
  );
}
