import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { UserRole } from '../roles/roles';

/** Distributed by tenant_id: every key leads with it so a tenant's rows share one shard. */
@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'bigint' })
  tenantId!: string;

  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text' })
  username!: string;

  /** nameKey(username): unique per tenant, with tenant_id (see names/names.ts). */
  @Column({ name: 'username_key', type: 'text' })
  usernameKey!: string;

  @Column({ type: 'text' })
  email!: string;

  @Column({ type: 'text' })
  role!: UserRole;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /**
   * Set while the row is not an active member: removed, left (the row stays, so their notes keep
   * an author), or made by an email claim still waiting for its mailbox (see VerificationService).
   */
  @Column({ name: 'removed_at', type: 'timestamptz', nullable: true })
  removedAt!: Date | null;
}
