import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tokenIn } from '../../tools/mail/sink';

function mailDir(): string {
  const dir = process.env.E2E_MAIL_DIR;
  if (!dir) throw new Error('E2E_MAIL_DIR is missing: run e2e specs through jest');
  return dir;
}

/** Every mail the sink received for `email`, oldest first, as raw text. */
export function mailsTo(email: string): string[] {
  const dir = mailDir();
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
    .map((file) => readFileSync(file, 'utf8'))
    .filter((raw) => new RegExp(`^To: .*${email.replace(/[.+]/g, '\\$&')}`, 'im').test(raw));
}

/** The token of the newest mail to `email` whose subject contains `subject`. */
export function latestToken(email: string, subject: string): string {
  const mail = mailsTo(email)
    .filter((raw) => raw.includes(subject))
    .pop();
  const token = mail && tokenIn(mail);
  if (!token) throw new Error(`no "${subject}" mail with a token for ${email}`);
  return token;
}
