/**
 * Every "may this actor do that" of the service, in one place. Routes declare roles with
 * @Auth(...) (checked by the global guard); services ask the functions below for rules that
 * depend on the data.
 */
export const USER_ROLES = ['owner', 'admin', 'member'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export function isUserRole(value: unknown): value is UserRole {
  return typeof value === 'string' && (USER_ROLES as readonly string[]).includes(value);
}

/** Roles that manage the tenant: other people's content, invitations. */
export const MANAGER_ROLES = ['owner', 'admin'] as const satisfies readonly UserRole[];

export function isManager(role: UserRole): boolean {
  return (MANAGER_ROLES as readonly UserRole[]).includes(role);
}

/** Roles an invitation can grant; nobody is invited as owner. */
export const INVITABLE_ROLES = ['admin', 'member'] as const satisfies readonly UserRole[];
export type InvitableRole = (typeof INVITABLE_ROLES)[number];

/** Owners invite admins and members; admins invite members. */
export function mayInvite(actor: UserRole, invited: InvitableRole): boolean {
  return actor === 'owner' || (actor === 'admin' && invited === 'member');
}

/** A note may be changed or deleted by its author and by the tenant's managers. */
export function mayChangeNote(
  actor: { userId: string; role: UserRole },
  authorId: string,
): boolean {
  return actor.userId === authorId || isManager(actor.role);
}

/** Only owners change roles: they promote to admin or owner (a transfer) and demote. */
export function mayChangeRole(actor: UserRole): boolean {
  return actor === 'owner';
}

/** Owners remove anyone; admins remove plain members. */
export function mayRemove(actor: UserRole, target: UserRole): boolean {
  return actor === 'owner' || (actor === 'admin' && target === 'member');
}
