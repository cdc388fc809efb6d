import { CreateDateColumn, Entity, PrimaryColumn, Column } from 'typeorm';

/**
 * Distributed by email, so "which tenants does this email belong to" is one single-shard lookup
 * instead of a scan of every users shard. Written in the same transaction as the user row.
 */
@Entity({ name: 'login_directory' })
export class LoginDirectoryEntry {
  @PrimaryColumn({ type: 'text' })
  email!: string;

  @PrimaryColumn({ name: 'tenant_id', type: 'bigint' })
  tenantId!: string;

  @Column({ name: 'user_id', type: 'bigint' })
  userId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
