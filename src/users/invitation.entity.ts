import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { UserRole } from '../roles/roles';

/**
 * Distributed by tenant_id and colocated with users. Only a hash of the code is stored. Kept
 * here, beside the members who make invitations, because a member's change of standing
 * (members.service.ts) revokes them; issuing and redeeming codes is tenants/ (above users/).
 */
@Entity({ name: 'invitations' })
export class InvitationEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'bigint' })
  tenantId!: string;

  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'code_hash', type: 'text' })
  codeHash!: string;

  @Column({ type: 'text' })
  role!: UserRole;

  @Column({ name: 'created_by', type: 'bigint' })
  createdBy!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;

  @Column({ name: 'used_by', type: 'bigint', nullable: true })
  usedBy!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
