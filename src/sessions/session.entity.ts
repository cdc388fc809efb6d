import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export type SessionSubject = 'user' | 'operator';

/** Operators belong to no tenant: their sessions are kept under tenant 0. */
export const OPERATOR_TENANT = '0';

/**
 * One login: a family of rotating refresh tokens, of which only the newest generation is valid.
 * Distributed by tenant_id and colocated with users; operators' sessions live under tenant 0.
 */
@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'bigint' })
  tenantId!: string;

  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text' })
  family!: string;

  @Column({ name: 'subject_kind', type: 'text' })
  subjectKind!: SessionSubject;

  @Column({ name: 'subject_id', type: 'bigint' })
  subjectId!: string;

  /** How many times the session's refresh token was rotated: only this generation is valid. */
  @Column({ type: 'integer' })
  generation!: number;

  /** SHA-256 of the current refresh token (the token itself is never stored). */
  @Column({ name: 'token_hash', type: 'text' })
  tokenHash!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true })
  rotatedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
