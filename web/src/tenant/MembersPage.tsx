import { useEffect, useState } from 'preact/hooks';
import { ErrorMessage, formatDate, Page, useSubmit } from '../shared/ui';
import { api, manages, Me, Member } from './api';

type Role = 'member' | 'admin';

/** Members of the tenant; owners and admins also create invitation codes here. */
export function MembersPage(props: { me: Me }) {
  const { me } = props;
  const [members, setMembers] = useState<Member[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);

  const loadPage = async (after: string | null) => {
    const page = await api.call((client) =>
      client.GET('/api/v1/users', {
        params: { query: { limit: 50, ...(after ? { cursor: after } : {}) } },
      }),
    );
    setMembers((shown) => (after ? [...shown, ...page.items] : page.items));
    setCursor(page.nextCursor);
  };
  const first = useSubmit(() => loadPage(null));
  const more = useSubmit(() => loadPage(cursor));
  useEffect(() => first.onSubmit(new Event('load')), []);

  return (
    <Page title="Members">
      {manages(me) && <InviteForm me={me} />}
      <h2>Members of {me.tenant.name}</h2>
      <ErrorMessage error={first.error} />
      <table>
        <caption class="visually-hidden">Members, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Username</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Joined</th>
          </tr>
        </thead>
        <tbody>
          {members.map((member) => (
            <tr key={member.id}>
              <td>
                {member.username}
                {member.id === me.user.id && ' (you)'}
              </td>
              <td>{member.email}</td>
              <td>{member.role}</td>
              <td>{formatDate(member.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorMessage error={more.error} />
      {cursor && (
        <p>
          <button type="button" class="secondary" disabled={more.busy} onClick={more.onSubmit}>
            Load more members
          </button>
        </p>
      )}
    </Page>
  );
}

function InviteForm(props: { me: Me }) {
  const [role, setRole] = useState<Role>('member');
  const [invitation, setInvitation] = useState<{ code: string; role: string; expiresAt: string }>();
  const form = useSubmit(async () => {
    setInvitation(undefined);
    setInvitation(
      await api.call((client) =>
        client.POST('/api/v1/tenants/current/invitations', { body: { role } }),
      ),
    );
  });
  return (
    <form class="card" onSubmit={form.onSubmit} aria-labelledby="invite">
      <h2 id="invite">Invite someone</h2>
      <ErrorMessage error={form.error} />
      <div class="field">
        <label for="invite-role">Role</label>
        <select
          id="invite-role"
          value={role}
          onChange={(event) => setRole(event.currentTarget.value as Role)}
        >
          <option value="member">Member: writes notes, changes their own</option>
          {/* Only owners invite admins (the API says the same). */}
          {props.me.user.role === 'owner' && (
            <option value="admin">Admin: also manages notes and members</option>
          )}
        </select>
      </div>
      <div class="actions">
        <button type="submit" disabled={form.busy}>
          Create invitation code
        </button>
      </div>
      {invitation && (
        <div class="message info" role="status">
          <p>
            Give this code to the person joining (as {invitation.role}). It works once, until{' '}
            {formatDate(invitation.expiresAt)}, and is shown only now. They join at{' '}
            <strong>Sign up or join</strong> with the organisation name{' '}
            <strong>{props.me.tenant.name}</strong>.
          </p>
          <label for="invite-code">Invitation code</label>
          <input id="invite-code" class="code" readOnly value={invitation.code} size={40} />
        </div>
      )}
    </form>
  );
}
