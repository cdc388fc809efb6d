import { dictionary } from '@zxcvbn-ts/language-common';
import { normalizePassword } from './passwords';

/** About 49,000 passwords seen most often in breaches (zxcvbn-ts' list, maintained upstream). */
const COMMON = new Set(dictionary['passwords-common'].map((password) => password.toLowerCase()));

/** Why this password may not be used for this email, or undefined when it may. */
export function passwordProblem(password: string, email: string): string | undefined {
  const normalized = normalizePassword(password).toLowerCase();
  if (normalized === normalizePassword(email).toLowerCase()) {
    return 'password must not be the email address';
  }
  // "aaaaaaaa" and "abababab" are not in the list, and no safer for it.
  if (new Set(normalized).size < 3) {
    return 'password must use at least 3 different characters';
  }
  if (COMMON.has(normalized)) {
    return 'password is one of the most common passwords; choose another';
  }
  return undefined;
}
