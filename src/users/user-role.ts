export const USER_ROLES = ['owner', 'admin', 'member'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export function isUserRole(value: unknown): value is UserRole {
  return typeof value === 'string' && (USER_ROLES as readonly string[]).includes(value);
}

/** Roles that may manage other people's content and invite new members. */
export const MANAGER_ROLES: readonly UserRole[] = ['owner', 'admin'];
