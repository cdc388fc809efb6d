import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { Optional } from '../../http/transforms';
import { PageQueryDto, Paginated } from '../../http/pagination';

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

  @ApiProperty({ description: 'Shard placements of distributed tables (reference tables aside)' })
  shardCount!: number;

  @ApiProperty({
    description: 'Shards are being moved off this node (a drain job runs; shardCount falls to 0)',
  })
  draining!: boolean;
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
  @Optional()
  @IsString()
  @MaxLength(63)
  @Matches(/^[a-z_][a-z0-9_]*$/, { message: 'table must be a table name' })
  table?: string;

  @ApiPropertyOptional({ description: 'Only placements on this node id (see citus/nodes)' })
  @Optional()
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

export class ShardsAnswer extends Paginated(ShardView) {
  @ApiProperty({ description: 'false on a plain PostgreSQL: only what exists there is shown' })
  citus!: boolean;
}

export class ActivityView {
  @ApiProperty({ type: String, nullable: true })
  globalPid!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      "The id of the API request that sent the statement (its X-Request-Id, and `req.id` in the service's log)",
  })
  requestId!: string | null;

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
