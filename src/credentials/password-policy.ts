import { dictionary } from '@zxcvbn-ts/language-common';
import { normalizePassword, PASSWORD_MAX_BYTES, passwordBytes } from './passwords';

/** About 49,000 passwords seen most often in breaches (zxcvbn-ts' list, maintained upstream). */
const COMMON = new Set(dictionary['passwords-common'].map((password) => password.toLowerCase()));

/**
 * Operators hold the whole cluster: their floor is above the 8 bytes of a tenant password. Like
 * every password length, it is counted in UTF-8 bytes of the NFKC form (what is hashed).
 */
export const MIN_OPERATOR_PASSWORD = 12;

/**
 * Why this password may not be used for this email, or undefined when it may. `name` is how
 * the message calls the password (the variable it came from, for the configuration).
 */
export function passwordProblem(
  password: string,
  email: string,
  name = 'password',
): string | undefined {
  const normalized = normalizePassword(password).toLowerCase();
  if (normalized === normalizePassword(email).toLowerCase()) {
    return `${name} must not be the email address`;
  }
  // "aaaaaaaa" and "abababab" are not in the list, and no safer for it.
  if (new Set(normalized).size < 3) {
    return `${name} must use at least 3 different characters`;
  }
  if (COMMON.has(normalized)) {
    return `${name} is one of the most common passwords; choose another`;
  }
  return undefined;
}

/**
 * Why this password may not be an operator's (created by the CLI or ADMIN_EMAIL /
 * ADMIN_PASSWORD), or undefined: the tenant rules, with the operators' longer minimum. Tenant
 * routes check the length in their DTOs; operators have no such route, so it is checked here.
 */
export function operatorPasswordProblem(
  password: string,
  email: string,
  name = 'password',
): string | undefined {
  const bytes = passwordBytes(password);
  if (bytes < MIN_OPERATOR_PASSWORD || bytes > PASSWORD_MAX_BYTES) {
    return `${name} must be ${MIN_OPERATOR_PASSWORD} to ${PASSWORD_MAX_BYTES} bytes long`;
  }
  return passwordProblem(password, email, name);
}
