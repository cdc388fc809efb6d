import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * The memberships of an account, by email: distributed by email and colocated with accounts, so
 * "which tenants does this email belong to" is one single-shard lookup. One row per active
 * membership; removing a member removes the row.
 */
@Entity({ name: 'login_directory' })
export class LoginDirectoryEntry {
  @PrimaryColumn({ type: 'text' })
  email!: string;

  @PrimaryColumn({ name: 'tenant_id', type: 'bigint' })
  tenantId!: string;

  @Column({ name: 'user_id', type: 'bigint' })
  userId!: string;

  /** The hash this membership had before accounts existed, when it differed (see migration). */
  @Column({ name: 'legacy_password_hash', type: 'text', nullable: true, select: false })
  legacyPasswordHash!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
