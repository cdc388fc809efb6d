import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageQueryDto } from '../../http/pagination';

/** Every cluster answer says whether it came from Citus metadata or a plain PostgreSQL. */
export class ClusterAnswer {
  @ApiProperty({ description: 'false on a plain PostgreSQL: only what exists there is shown' })
  citus!: boolean;
}

export class NodeRef {
  @ApiProperty({ example: 2 })
  id!: number;

  @ApiProperty({ example: '10.0.0.12' })
  host!: string;

  @ApiProperty({ example: 5432 })
  port!: number;
}

export class NodeView extends NodeRef {
  @ApiProperty({ enum: ['coordinator', 'worker', 'standalone'] })
  role!: 'coordinator' | 'worker' | 'standalone';

  @ApiProperty()
  groupId!: number;

  @ApiProperty()
  active!: boolean;

  @ApiProperty({ description: 'Whether new shards may be placed here' })
  shouldHaveShards!: boolean;

  @ApiProperty({ description: 'Every node could connect to this one just now' })
  healthy!: boolean;

  @ApiProperty({ description: 'Connection checks to this node that succeeded / were made' })
  checksPassed!: number;

  @ApiProperty()
  checksTotal!: number;
}

export class NodesAnswer extends ClusterAnswer {
  @ApiProperty()
  checkedAt!: Date;

  @ApiProperty({ type: [NodeView] })
  nodes!: NodeView[];
}

export class TableView {
  @ApiProperty({ example: 'notes' })
  name!: string;

  @ApiProperty({ enum: ['distributed', 'reference', 'local'] })
  type!: string;

  @ApiProperty({ type: String, nullable: true, example: 'tenant_id' })
  distributionColumn!: string | null;

  @ApiProperty({ type: Number, nullable: true })
  colocationId!: number | null;

  @ApiProperty()
  shardCount!: number;

  @ApiProperty({ description: 'Bytes, all shards and indexes' })
  sizeBytes!: number;
}

export class TablesAnswer extends ClusterAnswer {
  @ApiProperty({ type: [TableView] })
  tables!: TableView[];
}

export class ShardsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'notes', description: 'Only shards of this table' })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  @Matches(/^[a-z_][a-z0-9_]*$/, { message: 'table must be a table name' })
  table?: string;

  @ApiPropertyOptional({ description: 'Only placements on this node id (see citus/nodes)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'node must be an integer node id' })
  @Min(1, { message: 'node must be an integer node id' })
  @Max(2_147_483_647, { message: 'node must be an integer node id' })
  node?: number;
}

export class ShardView {
  @ApiProperty({ description: 'Placement id: a shard has one per node holding a copy' })
  placementId!: string;

  @ApiProperty()
  shardId!: string;

  @ApiProperty()
  table!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Hash range start (null: reference)' })
  minValue!: string | null;

  @ApiProperty({ type: String, nullable: true })
  maxValue!: string | null;

  @ApiProperty({ type: NodeRef })
  node!: NodeRef;

  @ApiProperty({ type: Number, nullable: true })
  sizeBytes!: number | null;
}

export class ShardsAnswer extends ClusterAnswer {
  @ApiProperty({ type: [ShardView] })
  items!: ShardView[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class ActivityView {
  @ApiProperty({ type: String, nullable: true })
  globalPid!: string | null;

  @ApiProperty({ type: NodeRef, nullable: true })
  node!: NodeRef | null;

  @ApiProperty()
  pid!: number;

  @ApiProperty({ type: String, nullable: true })
  user!: string | null;

  @ApiProperty({ type: String, nullable: true })
  state!: string | null;

  @ApiProperty({ type: String, nullable: true })
  waitEventType!: string | null;

  @ApiProperty({ type: String, nullable: true })
  waitEvent!: string | null;

  @ApiProperty({ type: Date, nullable: true })
  queryStart!: Date | null;

  @ApiProperty({ description: 'Truncated to 500 characters' })
  query!: string;

  @ApiProperty({ description: 'Run on a worker on behalf of a coordinator query' })
  workerQuery!: boolean;
}

export class ActivityAnswer extends ClusterAnswer {
  @ApiProperty({ type: [ActivityView] })
  activity!: ActivityView[];
}

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

export class TenantsAnswer extends ClusterAnswer {
  @ApiProperty({ type: LoadTracking })
  loadTracking!: LoadTracking;

  @ApiProperty({ type: [TenantPlacementView] })
  items!: TenantPlacementView[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class TenantAnswer extends ClusterAnswer {
  @ApiProperty({ type: LoadTracking })
  loadTracking!: LoadTracking;

  @ApiProperty({ type: TenantPlacementView })
  tenant!: TenantPlacementView;
}

export class RegistrationsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(100, { message: 'limit must be at most 100' })
  limit?: number;
}

export class RegistrationView {
  @ApiProperty()
  tenantId!: string;

  @ApiProperty()
  tenantName!: string;

  @ApiProperty()
  userId!: string;

  @ApiProperty()
  username!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty()
  role!: string;

  @ApiProperty()
  createdAt!: Date;
}

export class RegistrationsAnswer {
  @ApiProperty({ type: [RegistrationView] })
  items!: RegistrationView[];
}

export class IsolateTenantDto {
  @ApiPropertyOptional({
    description: 'Then move the new shard (and its colocated shards) to this worker node id',
  })
  @IsOptional()
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

export class RebalanceAnswer {
  @ApiProperty({ type: String, nullable: true })
  jobId!: string | null;

  @ApiProperty({ example: 'running', description: 'none and balanced mean no job' })
  state!: string;

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty({ type: Date, nullable: true })
  startedAt!: Date | null;

  @ApiProperty({ type: Date, nullable: true })
  finishedAt!: Date | null;

  @ApiProperty({ type: Object, nullable: true, description: 'Citus progress details' })
  details!: Record<string, unknown> | null;
}
