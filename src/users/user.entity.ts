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

  @Column({ type: 'text' })
  email!: string;

  @Column({ name: 'password_hash', type: 'text', select: false })
  passwordHash!: string;

  @Column({ type: 'text' })
  role!: UserRole;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
