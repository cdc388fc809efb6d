import { Page } from 'playwright-core';
import { useBrowserApp } from '../harness/browser';
import {
  bearer,
  describeBrowser,
  invite,
  PASSWORD,
  register,
  unique,
  verifyEmail,
} from '../harness/e2e';
import { latestToken } from '../harness/mail';

/** Evaluated in the page: where the console keeps the refresh token. */
const REFRESH_TOKEN = "sessionStorage.getItem('notes.refreshToken')";

async function logIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/#/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

describeBrowser('Tenant pages in Chromium [browser] (e2e)', () => {
  const ctx = useBrowserApp();

  it('should sign up a new organisation, land on its notes and confirm the email', async () => {
    const page = await ctx.newPage();
    const tenantName = unique('Browser Org');
    const email = `${unique('signup')}@example.com`;
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Log in');
    await page.getByRole('link', { name: 'Sign up or join', exact: true }).click();
    await page.getByLabel('Organisation name').fill(tenantName);
    await page.getByLabel('Username').fill('founder');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create organisation' }).click();

    await page.getByRole('heading', { name: 'Notes', level: 1 }).waitFor();
    await expect(page.locator('header').textContent()).resolves.toContain(tenantName);
    await expect(page.locator('header').textContent()).resolves.toContain('founder (owner)');
    await page.getByText(`we mailed a token to ${email}`).waitFor();

    await page.getByRole('link', { name: 'Enter it here' }).click();
    await page.getByLabel('Token from the mail').fill(latestToken(email, 'Confirm your email'));
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.getByText(`${email} is confirmed`).waitFor();
    const confirmed = await ctx.db.query<{ verified: boolean }>(
      'SELECT email_verified_at IS NOT NULL AS verified FROM accounts WHERE email = $1',
      [email],
    );
    expect(confirmed.rows[0]?.verified).toBe(true);
  });

  it('should say clearly why a sign-up or a login is refused', async () => {
    const taken = await register(ctx.http);
    const page = await ctx.newPage();
    await page.goto('/#/signup');
    await page.getByLabel('Organisation name').fill(taken.tenant.name);
    await page.getByLabel('Username').fill('someone');
    await page.getByLabel('Email').fill(`${unique('other')}@example.com`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'An organisation with this name (or one that looks the same) already exists',
    );

    await logIn(page, taken.email, 'not the password');
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Wrong email or password.');
  });

  it('should log in with email and password alone, asking which organisation when there are several', async () => {
    const first = await register(ctx.http);
    await verifyEmail(ctx.http, first.email);
    const second = await register(ctx.http, { email: first.email });

    const page = await ctx.newPage();
    await logIn(page, first.email);
    const choice = page.getByRole('group', { name: /several organisations/ });
    await choice.waitFor();
    await choice.getByLabel(second.tenant.name).check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Notes', level: 1 }).waitFor();
    await expect(page.locator('header').textContent()).resolves.toContain(second.tenant.name);
    // Tokens stay out of the address bar and out of persistent storage.
    expect(page.url()).not.toMatch(/token|eyJ/i);
    await expect(page.evaluate('localStorage.length')).resolves.toBe(0);
  });

  it('should create, edit and delete a note', async () => {
    const owner = await register(ctx.http);
    const page = await ctx.newPage();
    await logIn(page, owner.email);
    await page.getByRole('heading', { name: 'Notes', level: 1 }).waitFor();

    await page.getByLabel('Title (optional)').fill('Shopping');
    await page.getByLabel('Text').fill('milk\neggs');
    await page.getByRole('button', { name: 'Save note' }).click();
    const note = page.getByRole('article', { name: 'Shopping' });
    await note.waitFor();
    await expect(note.textContent()).resolves.toContain('by you');

    await note.getByRole('button', { name: 'Edit Shopping' }).click();
    const editor = page.getByRole('form', { name: 'Edit Shopping' });
    await editor.getByLabel('Title (optional)').fill('Groceries');
    await editor.getByLabel('Text').fill('milk, eggs, bread');
    await editor.getByRole('button', { name: 'Save changes' }).click();
    const edited = page.getByRole('article', { name: 'Groceries' });
    await edited.getByText('milk, eggs, bread').waitFor();
    const stored = await ctx.db.query<{ title: string; content: string }>(
      'SELECT title, content FROM notes WHERE tenant_id = $1',
      [owner.tenant.id],
    );
    expect(stored.rows).toEqual([{ title: 'Groceries', content: 'milk, eggs, bread' }]);

    await edited.getByRole('button', { name: 'Delete Groceries' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await edited.waitFor({ state: 'detached' });
    const left = await ctx.db.query('SELECT 1 FROM notes WHERE tenant_id = $1', [owner.tenant.id]);
    expect(left.rowCount).toBe(0);
  });

  it('should show notes newest first and load more with the cursor', async () => {
    const owner = await register(ctx.http);
    for (let i = 1; i <= 23; i += 1) {
      await ctx
        .http()
        .post('/api/v1/notes')
        .set(...bearer(owner.token))
        .send({ title: `Note ${i}`, content: `text ${i}` })
        .expect(201);
    }
    const page = await ctx.newPage();
    await logIn(page, owner.email);
    const notes = page.getByRole('list', { name: 'Notes, newest first' }).getByRole('article');
    await page.getByRole('article', { name: 'Note 23' }).waitFor();
    await expect(notes.count()).resolves.toBe(20);
    await expect(notes.first().getAttribute('aria-label')).resolves.toBe('Note 23');
    await page.getByRole('button', { name: 'Load more notes' }).click();
    await page.getByRole('article', { name: 'Note 1', exact: true }).waitFor();
    await expect(notes.count()).resolves.toBe(23);
    await expect(page.getByRole('button', { name: 'Load more notes' }).count()).resolves.toBe(0);
  });

  it("should not let a member change another member's note, only their own", async () => {
    const owner = await register(ctx.http);
    const member = await register(ctx.http, {
      tenantName: owner.tenant.name,
      inviteCode: await invite(ctx.http, owner.token),
    });
    for (const [who, title] of [
      [owner, "Owner's plan"],
      [member, 'My idea'],
    ] as const) {
      await ctx
        .http()
        .post('/api/v1/notes')
        .set(...bearer(who.token))
        .send({ title, content: 'text' })
        .expect(201);
    }
    const page = await ctx.newPage();
    await logIn(page, member.email);
    const others = page.getByRole('article', { name: "Owner's plan" });
    await others.waitFor();
    // The author's name comes with the members' list, which may land after the notes.
    await others.getByText(`by ${owner.user.username}`).waitFor();
    await expect(others.getByRole('button').count()).resolves.toBe(0);
    const own = page.getByRole('article', { name: 'My idea' });
    await expect(own.getByRole('button', { name: 'Edit My idea' }).isVisible()).resolves.toBe(true);
    // The owner sees the controls on every note, as the API allows.
    const ownerPage = await ctx.newPage();
    await logIn(ownerPage, owner.email);
    await ownerPage
      .getByRole('article', { name: 'My idea' })
      .getByRole('button', { name: 'Edit My idea' })
      .waitFor();
  });

  it('should invite a member who joins with the code, and list them', async () => {
    const owner = await register(ctx.http);
    const page = await ctx.newPage();
    await logIn(page, owner.email);
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
    await page.getByLabel('Role').selectOption('admin');
    await page.getByRole('button', { name: 'Create invitation code' }).click();
    const code = await page.getByLabel('Invitation code').inputValue();
    expect(code.length).toBeGreaterThanOrEqual(10);

    const joiner = await ctx.newPage();
    const email = `${unique('joiner')}@example.com`;
    await joiner.goto('/#/signup');
    await joiner.getByLabel('Join one with an invitation code').check();
    await joiner.getByLabel('Organisation name').fill(owner.tenant.name);
    await joiner.getByLabel('Invitation code', { exact: true }).fill(code);
    await joiner.getByLabel('Username').fill('newcomer');
    await joiner.getByLabel('Email').fill(email);
    await joiner.getByLabel('Password').fill(PASSWORD);
    await joiner.getByRole('button', { name: 'Join' }).click();
    await joiner.getByRole('heading', { name: 'Notes', level: 1 }).waitFor();
    await expect(joiner.locator('header').textContent()).resolves.toContain('newcomer (admin)');

    await page.reload();
    await page.getByRole('cell', { name: 'newcomer' }).waitFor();
    await expect(page.getByRole('row', { name: /newcomer/ }).textContent()).resolves.toContain(
      'admin',
    );
    // The code worked once.
    await joiner.getByRole('button', { name: 'Log out' }).click();
    await joiner.getByText('You are logged out.').waitFor();
  });

  it('should keep the session over a reload by rotating the refresh token, and end it on logout', async () => {
    const owner = await register(ctx.http);
    const page = await ctx.newPage();
    await logIn(page, owner.email);
    await page.getByRole('heading', { name: 'Notes', level: 1 }).waitFor();
    const before = await page.evaluate<string | null>(REFRESH_TOKEN);
    expect(before).toBeTruthy();

    // The access token lived in memory only: the reload must refresh to carry on.
    await page.reload();
    await page.getByRole('heading', { name: 'Notes', level: 1 }).waitFor();
    const after = await page.evaluate<string | null>(REFRESH_TOKEN);
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
    // The one it replaced is spent: sent again this soon it is taken for a retry and answered
    // with the page's own token (REFRESH_RETRY_GRACE_SECONDS), never with a new one.
    const retry = await ctx
      .http()
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: before })
      .expect(200);
    expect(retry.body.refreshToken).toBe(after);

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You are logged out.').waitFor();
    await expect(page.evaluate('sessionStorage.length')).resolves.toBe(0);
    // Logging out ended the session: neither token refreshes any more.
    for (const token of [before, after]) {
      await ctx.http().post('/api/v1/auth/refresh').send({ refreshToken: token }).expect(401);
    }
  });
});
