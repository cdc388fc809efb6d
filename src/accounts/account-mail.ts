import { Mail } from '../mail/mail.service';

/**
 * The mails that carry tokens. Each has the token on a line of its own (`Token: <token>`) so a
 * person can paste it and a program can read it.
 */
/**
 * What confirming does. A claim (`claimedTenant`) takes the address over from an unproven
 * account; a plain token confirms the account as it is, whose password was chosen by whoever
 * registered it first, so the mail names its tenants: someone who did not register there must
 * not confirm it, and a password reset gives the account to the mailbox instead.
 */
export function verificationMail(
  email: string,
  token: string,
  about: { claimedTenant: string } | { tenants: readonly string[] },
): Mail {
  // Names are chosen by whoever registered: shown only as quoted data, escaped, never as prose.
  const quote = (name: string) => JSON.stringify(name);
  const quoted = (names: readonly string[]) => names.map(quote).join(', ');
  const what =
    'claimedTenant' in about
      ? [
          `This registration (tenant ${quote(about.claimedTenant)}) was made without the password this address`,
          'already had. Confirming it makes its password the only one and closes every membership',
          'made before with this address. Confirm only if you made it yourself.',
        ]
      : [
          `Confirming it confirms the account registered in ${quoted(about.tenants) || 'no tenant yet'},`,
          'with the password chosen there. If you did not register there yourself, do not confirm:',
          'ask for a password reset (POST /api/v1/auth/password-reset) to make the account yours.',
        ];
  return {
    to: email,
    subject: 'Confirm your email address',
    text: [
      `Someone (we hope you) registered ${email} with the notes service.`,
      ...what,
      'To confirm that this address is yours, send this token to POST /api/v1/auth/verify-email',
      'within 24 hours. If it was not you, ignore this mail: nothing is done without the token.',
      '',
      `Token: ${token}`,
      '',
    ].join('\n'),
  };
}

export function resetMail(email: string, token: string): Mail {
  return {
    to: email,
    subject: 'Reset your password',
    text: [
      `A password reset was asked for ${email}.`,
      'To choose a new password, send this token with it to',
      'POST /api/v1/auth/password-reset/confirm within an hour. If it was not you, ignore this',
      'mail: your password stays as it is.',
      '',
      `Token: ${token}`,
      '',
    ].join('\n'),
  };
}
