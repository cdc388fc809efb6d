import { useState } from 'preact/hooks';
import { ErrorMessage, Field, Notice, Page, useSubmit } from '../shared/ui';
import { api } from './api';

/** The token from the confirmation mail (the line `Token: ...`), and a way to get a new one. */
export function VerifyPage() {
  const [token, setToken] = useState('');
  const [done, setDone] = useState<string | undefined>(undefined);
  const [email, setEmail] = useState(sessionStorage.getItem('notes.unverified') ?? '');
  const [resent, setResent] = useState(false);

  const verify = useSubmit(async () => {
    const answer = await api.call((client) =>
      client.POST('/api/v1/auth/verify-email', { body: { token: token.trim() } }),
    );
    sessionStorage.removeItem('notes.unverified');
    setToken('');
    setDone(answer.email);
  });
  const resend = useSubmit(async () => {
    await api.call((client) =>
      client.POST('/api/v1/auth/verify-email/resend', { body: { email } }),
    );
    setResent(true);
  });

  return (
    <Page title="Confirm your email">
      {done && <Notice>{done} is confirmed. You can log in and join other organisations.</Notice>}
      <form class="card" onSubmit={verify.onSubmit}>
        <p class="hint">We mailed you a token when you signed up: paste it here.</p>
        <ErrorMessage error={verify.error} />
        <Field
          label="Token from the mail"
          required
          autoComplete="off"
          value={token}
          onValue={setToken}
        />
        <div class="actions">
          <button type="submit" disabled={verify.busy}>
            Confirm
          </button>
        </div>
      </form>
      <form class="card" onSubmit={resend.onSubmit}>
        <h2>No mail?</h2>
        <ErrorMessage error={resend.error} />
        {resent && (
          <Notice>
            If {email} has an unconfirmed account, a new token is on its way, unless one was sent in
            the last minutes: then use that one (mails to one address are spaced, at most an hour
            apart).
          </Notice>
        )}
        <Field label="Email" type="email" required value={email} onValue={setEmail} />
        <div class="actions">
          <button type="submit" class="secondary" disabled={resend.busy}>
            Send a new token
          </button>
        </div>
      </form>
    </Page>
  );
}
