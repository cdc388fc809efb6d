import { ApiProperty } from '@nestjs/swagger';
import { TenantEntity } from '../tenant.entity';

export class TenantView {
  @ApiProperty({ example: '7', description: 'bigint id, as a string' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty()
  createdAt!: Date;

  static from(tenant: TenantEntity): TenantView {
    return { id: tenant.id, name: tenant.name, createdAt: tenant.createdAt };
  }
}
