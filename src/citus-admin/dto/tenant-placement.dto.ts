import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { Optional } from '../../http/transforms';
import { Paginated } from '../../http/pagination';
import { ClusterAnswer, NodeRef } from './catalog.dto';

export class TenantLoad {
  @ApiProperty()
  queriesThisPeriod!: number;

  @ApiProperty()
  queriesLastPeriod!: number;

  @ApiProperty()
  readsThisPeriod!: number;

  @ApiProperty()
  readsLastPeriod!: number;

  @ApiProperty({ description: 'CPU seconds' })
  cpuThisPeriod!: number;

  @ApiProperty()
  cpuLastPeriod!: number;
}

export class TenantPlacementView {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty({ type: String, nullable: true, description: 'Shard of users/notes/invitations' })
  shardId!: string | null;

  @ApiProperty({ description: 'The shard holds this tenant alone' })
  isolated!: boolean;

  @ApiProperty({ type: NodeRef, nullable: true })
  node!: NodeRef | null;

  @ApiProperty()
  users!: number;

  @ApiProperty()
  notes!: number;

  @ApiProperty({
    type: TenantLoad,
    nullable: true,
    description:
      'From citus_stat_tenants; null when tracking is off or the tenant is not in its top list',
  })
  load!: TenantLoad | null;
}

export class LoadTracking {
  @ApiProperty({ description: 'citus.stat_tenants_track is on' })
  enabled!: boolean;

  @ApiProperty({ example: 'all' })
  setting!: string;
}

export class TenantsAnswer extends Paginated(TenantPlacementView) {
  @ApiProperty({ description: 'false on a plain PostgreSQL: only what exists there is shown' })
  citus!: boolean;

  @ApiProperty({ type: LoadTracking })
  loadTracking!: LoadTracking;
}

export class TenantAnswer extends ClusterAnswer {
  @ApiProperty({ type: LoadTracking })
  loadTracking!: LoadTracking;

  @ApiProperty({ type: TenantPlacementView })
  tenant!: TenantPlacementView;
}

export class IsolateTenantDto {
  @ApiPropertyOptional({
    description: 'Then move the new shard (and its colocated shards) to this worker node id',
  })
  @Optional()
  @Type(() => Number)
  @IsInt({ message: 'targetNodeId must be an integer node id' })
  @Min(1, { message: 'targetNodeId must be an integer node id' })
  @Max(2_147_483_647, { message: 'targetNodeId must be an integer node id' })
  targetNodeId?: number;
}

export class IsolationAnswer {
  @ApiProperty()
  tenantId!: string;

  @ApiProperty({ description: 'The shard that now holds this tenant alone' })
  shardId!: string;

  @ApiProperty({ type: NodeRef })
  node!: NodeRef;

  @ApiProperty()
  previousShardId!: string;

  @ApiProperty({ type: NodeRef })
  previousNode!: NodeRef;

  @ApiProperty({ description: 'Whether the new shard was moved to targetNodeId' })
  moved!: boolean;

  @ApiProperty({
    enum: ['block_writes', 'auto', 'force_logical'],
    description: "block_writes: the tenant's writes waited while shards were copied",
  })
  transferMode!: 'block_writes' | 'auto' | 'force_logical';
}
