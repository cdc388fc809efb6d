import {
  Body,
  Controller,
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
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { FastifyReply as Response } from 'fastify';
import { Operator } from '../auth/auth.decorators';
import { ParseIdPipe } from '../http/id.pipe';
import { DEFAULT_PAGE_SIZE, PageQueryDto } from '../http/pagination';
import { CitusAdminService } from './citus-admin.service';
import {
  ActivityAnswer,
  IsolateTenantDto,
  IsolationAnswer,
  NodesAnswer,
  RebalanceAnswer,
  RegistrationsAnswer,
  RegistrationsQueryDto,
  ShardsAnswer,
  ShardsQueryDto,
  TablesAnswer,
  TenantAnswer,
  TenantsAnswer,
} from './dto/cluster.dto';

@ApiTags('admin')
@Operator()
@Controller('admin')
export class CitusAdminController {
  constructor(private readonly cluster: CitusAdminService) {}

  @Get('citus/nodes')
  @ApiOperation({ summary: 'Every node with its role and a live connection check' })
  @ApiOkResponse({ type: NodesAnswer })
  nodes(): Promise<NodesAnswer> {
    return this.cluster.nodes();
  }

  @Get('citus/tables')
  @ApiOperation({ summary: 'Distributed and reference tables: type, column, colocation, size' })
  @ApiOkResponse({ type: TablesAnswer })
  tables(): Promise<TablesAnswer> {
    return this.cluster.tables();
  }

  @Get('citus/shards')
  @ApiOperation({ summary: 'Shard placements with hash range, node and size' })
  @ApiOkResponse({ type: ShardsAnswer })
  shards(@Query() query: ShardsQueryDto): Promise<ShardsAnswer> {
    return this.cluster.shards(query);
  }

  @Get('citus/activity')
  @ApiOperation({ summary: 'Non-idle client activity across the cluster, without this request' })
  @ApiOkResponse({ type: ActivityAnswer })
  activity(): Promise<ActivityAnswer> {
    return this.cluster.activity();
  }

  @Get('citus/tenants')
  @ApiOperation({ summary: 'Where each tenant lives, how big and how busy it is' })
  @ApiOkResponse({ type: TenantsAnswer })
  tenants(@Query() query: PageQueryDto): Promise<TenantsAnswer> {
    return this.cluster.tenants(query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
  }

  @Get('citus/tenants/:id')
  @ApiOkResponse({ type: TenantAnswer })
  @ApiNotFoundResponse({ description: 'TENANT_NOT_FOUND' })
  tenant(@Param('id', ParseIdPipe) id: string): Promise<TenantAnswer> {
    return this.cluster.tenant(id);
  }

  @Post('citus/tenants/:id/isolate')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Give a tenant a shard of its own in every colocated table, optionally on another node',
  })
  @ApiOkResponse({ type: IsolationAnswer })
  @ApiNotFoundResponse({ description: 'TENANT_NOT_FOUND' })
  @ApiConflictResponse({ description: 'ALREADY_ISOLATED, or CITUS_REQUIRED on plain PostgreSQL' })
  isolate(
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: IsolateTenantDto,
  ): Promise<IsolationAnswer> {
    return this.cluster.isolate(id, dto);
  }

  @Post('citus/rebalance')
  @ApiOperation({
    summary: 'Start a background rebalance (202), or say the cluster is balanced (200)',
  })
  @ApiAcceptedResponse({ type: RebalanceAnswer })
  @ApiOkResponse({ type: RebalanceAnswer, description: 'Nothing to move' })
  @ApiConflictResponse({ description: 'REBALANCE_RUNNING, or CITUS_REQUIRED on plain PostgreSQL' })
  async startRebalance(@Res({ passthrough: true }) response: Response): Promise<RebalanceAnswer> {
    const answer = await this.cluster.startRebalance();
    response.status(answer.jobId === null ? HttpStatus.OK : HttpStatus.ACCEPTED);
    return answer;
  }

  @Get('citus/rebalance')
  @ApiOperation({ summary: 'Progress of the latest rebalance' })
  @ApiOkResponse({ type: RebalanceAnswer })
  rebalanceStatus(): Promise<RebalanceAnswer> {
    return this.cluster.rebalanceStatus();
  }

  @Get('registrations')
  @ApiOperation({ summary: 'The most recent registrations across all tenants' })
  @ApiOkResponse({ type: RegistrationsAnswer })
  registrations(@Query() query: RegistrationsQueryDto): Promise<RegistrationsAnswer> {
    return this.cluster.registrations(query.limit ?? DEFAULT_PAGE_SIZE);
  }
}
