import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Operator } from '../access/access.decorators';
import { ParseIdPipe } from '../http/id.pipe';
import { DEFAULT_PAGE_SIZE, PageQueryDto } from '../http/pagination';
import { CatalogService } from './catalog.service';
import {
  ActivityAnswer,
  NodesAnswer,
  ShardsAnswer,
  ShardsQueryDto,
  TablesAnswer,
} from './dto/catalog.dto';
import { AddNodeAnswer, AddNodeDto } from './dto/nodes.dto';
import { RebalanceAnswer } from './dto/rebalance.dto';
import {
  IsolateTenantDto,
  IsolationAnswer,
  TenantAnswer,
  TenantsAnswer,
} from './dto/tenant-placement.dto';
import { NodesService } from './nodes.service';
import { OperatorActions } from './operator-actions';
import { RebalanceService } from './rebalance.service';
import { TenantPlacementService } from './tenant-placement.service';

@ApiTags('admin')
@Operator()
@Controller('admin')
export class CitusAdminController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly placement: TenantPlacementService,
    private readonly rebalance: RebalanceService,
    private readonly nodesService: NodesService,
    private readonly actions: OperatorActions,
  ) {}

  @Get('citus/nodes')
  @ApiOperation({ summary: 'Every node with its role and a live connection check' })
  @ApiOkResponse({ type: NodesAnswer })
  nodes(): Promise<NodesAnswer> {
    return this.catalog.nodes();
  }

  @Post('citus/nodes')
  @ApiOperation({
    summary: 'Add a worker (citus_add_node); answers 200 with the node when it is already in',
  })
  @ApiCreatedResponse({ type: AddNodeAnswer })
  @ApiOkResponse({ type: AddNodeAnswer, description: 'Already in the cluster' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: host or port is invalid (named)' })
  @ApiConflictResponse({
    description:
      'CITUS_REQUIRED on plain PostgreSQL; OPERATION_RUNNING (another operator action is starting)',
  })
  @ApiUnprocessableEntityResponse({
    description:
      'NODE_UNREACHABLE (the coordinator cannot connect) or NODE_REJECTED (Citus said why)',
  })
  async addNode(
    @Body() dto: AddNodeDto,
    @Res({ passthrough: true }) response: FastifyReply,
  ): Promise<AddNodeAnswer> {
    const answer = await this.actions.exclusively(`adding node ${dto.host}:${dto.port}`, () =>
      this.nodesService.add(dto),
    );
    response.status(answer.added ? HttpStatus.CREATED : HttpStatus.OK);
    return answer;
  }

  @Post('citus/nodes/:id/drain')
  @ApiOperation({
    summary:
      'Move every shard off a worker in the background (202; progress in GET citus/nodes and GET citus/rebalance)',
  })
  @ApiAcceptedResponse({ type: RebalanceAnswer })
  @ApiOkResponse({
    type: RebalanceAnswer,
    description: 'Nothing to move: the node holds no shards',
  })
  @ApiNotFoundResponse({ description: 'NODE_NOT_FOUND' })
  @ApiConflictResponse({
    description:
      'NOT_A_WORKER, NO_TARGET_NODE (no other worker takes shards), REBALANCE_RUNNING, OPERATION_RUNNING, ASYNCHRONOUS_COMMITS (force_logical while a node commits asynchronously), or CITUS_REQUIRED',
  })
  async drainNode(
    @Param('id', ParseIdPipe) id: string,
    @Res({ passthrough: true }) response: FastifyReply,
  ): Promise<RebalanceAnswer> {
    // What cannot be done is said at once, whatever else is starting.
    await this.nodesService.check(Number(id), 'Draining a node');
    const answer = await this.actions.exclusively(`draining node ${id}`, () =>
      this.nodesService.drain(Number(id)),
    );
    response.status(answer.jobId === null ? HttpStatus.OK : HttpStatus.ACCEPTED);
    return answer;
  }

  @Delete('citus/nodes/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a worker that holds no shards (citus_remove_node)' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiNotFoundResponse({ description: 'NODE_NOT_FOUND' })
  @ApiConflictResponse({
    description:
      'NODE_NOT_EMPTY (drain it first; shardCount says how many), NOT_A_WORKER, OPERATION_RUNNING, CITUS_REQUIRED',
  })
  @ApiUnprocessableEntityResponse({ description: 'NODE_REJECTED: Citus refused, and says why' })
  async removeNode(@Param('id', ParseIdPipe) id: string): Promise<void> {
    await this.nodesService.check(Number(id), 'Removing a node');
    return this.actions.exclusively(`removing node ${id}`, () =>
      this.nodesService.remove(Number(id)),
    );
  }

  @Get('citus/tables')
  @ApiOperation({ summary: 'Distributed and reference tables: type, column, colocation, size' })
  @ApiOkResponse({ type: TablesAnswer })
  tables(): Promise<TablesAnswer> {
    return this.catalog.tables();
  }

  @Get('citus/shards')
  @ApiOperation({ summary: 'Shard placements with hash range, node and size' })
  @ApiOkResponse({ type: ShardsAnswer })
  shards(@Query() query: ShardsQueryDto): Promise<ShardsAnswer> {
    return this.catalog.shards(query);
  }

  @Get('citus/activity')
  @ApiOperation({ summary: 'Non-idle client activity across the cluster, without this request' })
  @ApiOkResponse({ type: ActivityAnswer })
  activity(): Promise<ActivityAnswer> {
    return this.catalog.activity();
  }

  @Get('citus/tenants')
  @ApiOperation({ summary: 'Where each tenant lives, how big and how busy it is' })
  @ApiOkResponse({ type: TenantsAnswer })
  tenants(@Query() query: PageQueryDto): Promise<TenantsAnswer> {
    return this.placement.tenants(query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
  }

  @Get('citus/tenants/:id')
  @ApiOkResponse({ type: TenantAnswer })
  @ApiNotFoundResponse({ description: 'TENANT_NOT_FOUND' })
  tenant(@Param('id', ParseIdPipe) id: string): Promise<TenantAnswer> {
    return this.placement.tenant(id);
  }

  @Post('citus/tenants/:id/isolate')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Give a tenant a shard of its own in every colocated table, optionally on another node',
  })
  @ApiOkResponse({ type: IsolationAnswer })
  @ApiNotFoundResponse({ description: 'TENANT_NOT_FOUND' })
  @ApiConflictResponse({
    description:
      'ALREADY_ISOLATED, OPERATION_RUNNING (another operator action is starting); ASYNCHRONOUS_COMMITS (force_logical while a node commits asynchronously); CITUS_REQUIRED on plain PostgreSQL',
  })
  async isolate(
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: IsolateTenantDto,
  ): Promise<IsolationAnswer> {
    await this.placement.isolatable(id);
    return this.actions.exclusively(`isolating tenant ${id}`, () =>
      this.placement.isolate(id, dto),
    );
  }

  @Post('citus/rebalance')
  @ApiOperation({
    summary: 'Start a background rebalance (202), or say the cluster is balanced (200)',
  })
  @ApiAcceptedResponse({ type: RebalanceAnswer })
  @ApiOkResponse({ type: RebalanceAnswer, description: 'Nothing to move' })
  @ApiConflictResponse({
    description:
      'REBALANCE_RUNNING, OPERATION_RUNNING (another operator action is starting); ASYNCHRONOUS_COMMITS (force_logical while a node commits asynchronously); CITUS_REQUIRED on plain PostgreSQL',
  })
  async startRebalance(
    @Res({ passthrough: true }) response: FastifyReply,
  ): Promise<RebalanceAnswer> {
    const answer = await this.actions.exclusively('starting a rebalance', () =>
      this.rebalance.start(),
    );
    response.status(answer.jobId === null ? HttpStatus.OK : HttpStatus.ACCEPTED);
    return answer;
  }

  @Get('citus/rebalance')
  @ApiOperation({ summary: 'Progress of the latest rebalance' })
  @ApiOkResponse({ type: RebalanceAnswer })
  rebalanceStatus(): Promise<RebalanceAnswer> {
    return this.rebalance.status();
  }
}
