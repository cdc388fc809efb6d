import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Reference table: replicated to every node, so any shard can join against it locally. */
@Entity({ name: 'tenants' })
export class TenantEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  /** nameKey(name): unique, so two names people could take for one another cannot both exist. */
  @Column({ name: 'name_key', type: 'text' })
  nameKey!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
