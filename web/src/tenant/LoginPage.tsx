import { useState } from 'preact/hooks';
import { ApiError } from '../shared/errors';
import { ErrorMessage, Field, Page, useSubmit } from '../shared/ui';
import { api, Me, session } from './api';

interface Choice {
  id: string;
  name: string;
}

/** Email and password only; when the email is in several organisations, the user picks one. */
export function LoginPage(props: { onLoggedIn: (me: Me) => void; email?: string }) {
  const [email, setEmail] = useState(props.email ?? '');
  const [password, setPassword] = useState('');
  const [choices, setChoices] = useState<Choice[] | undefined>(undefined);
  const [tenant, setTenant] = useState('');

  const form = useSubmit(async () => {
    try {
      const answer = await api.call((client) =>
        client.POST('/api/v1/auth/login', {
          body: { email, password, ...(choices && tenant ? { tenant } : {}) },
        }),
      );
      session.start(answer);
      props.onLoggedIn({ user: answer.user, tenant: answer.tenant });
    } catch (error) {
      if (error instanceof ApiError && error.code === 'TENANT_CHOICE_REQUIRED') {
        setChoices(error.body.tenants ?? []);
        setTenant('');
        // Not an error: the next step of the form.
        return;
      }
      throw error;
    }
  });

  return (
    <Page title="Log in">
      <form class="card" onSubmit={form.onSubmit} aria-describedby="login-help">
        <p id="login-help" class="hint">
          Your email and password are enough: no organisation name needed.
        </p>
        <ErrorMessage error={form.error} />
        <Field
          label="Email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onValue={(value) => {
            setEmail(value);
            setChoices(undefined);
          }}
        />
        <Field
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onValue={setPassword}
        />
        {choices && (
          <fieldset>
            <legend>Your email is in several organisations: which one?</legend>
            {choices.map((choice) => (
              <label key={choice.id}>
                <input
                  type="radio"
                  name="tenant"
                  value={choice.id}
                  checked={tenant === choice.id}
                  required
                  onChange={() => setTenant(choice.id)}
                />{' '}
                {choice.name}
              </label>
            ))}
          </fieldset>
        )}
        <div class="actions">
          <button type="submit" disabled={form.busy}>
            {choices ? 'Continue' : 'Log in'}
          </button>
          <a href="#/signup">No account? Sign up or join with an invitation</a>
        </div>
      </form>
    </Page>
  );
}
