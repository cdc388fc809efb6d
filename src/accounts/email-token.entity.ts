import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type EmailTokenPurpose = 'verify' | 'reset';

/**
 * A token sent by mail: single-use, expiring, stored as a hash. Distributed by email (colocated
 * with accounts); the token itself names its email, so it is found on one shard.
 */
@Entity({ name: 'email_tokens' })
export class EmailTokenEntity {
  @PrimaryColumn({ type: 'text' })
  email!: string;

  @PrimaryColumn({ name: 'token_hash', type: 'text' })
  tokenHash!: string;

  @Column({ type: 'text' })
  purpose!: EmailTokenPurpose;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;

  /** A registration waiting for this email's verification: its password and membership. */
  @Column({ name: 'claim_password_hash', type: 'text', nullable: true })
  claimPasswordHash!: string | null;

  @Column({ name: 'claim_tenant_id', type: 'bigint', nullable: true })
  claimTenantId!: string | null;

  @Column({ name: 'claim_user_id', type: 'bigint', nullable: true })
  claimUserId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
