import { Controller, Get, Injectable } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Operator } from '../access/access.decorators';
import { ClusterSql } from '../database/admin-database';
import { TenantBudget } from '../rate-limit/tenant-budget';

export class LimitedTenantView {
  @ApiProperty()
  tenantId!: string;

  @ApiProperty({ type: String, nullable: true, description: 'null when the tenant is gone' })
  tenantName!: string | null;

  @ApiProperty({
    enum: ['rate', 'concurrency'],
    description: 'rate: requests a second; concurrency: requests in progress',
  })
  limit!: 'rate' | 'concurrency';

  @ApiProperty({ description: 'The latest refusal of this kind' })
  at!: Date;
}

export class LimitedTenantsAnswer {
  @ApiProperty({ type: [LimitedTenantView], description: 'Newest first' })
  items!: LimitedTenantView[];
}

/** The tenants refused for their share lately, with their names. */
@Injectable()
export class LimitedTenants {
  constructor(
    private readonly budget: TenantBudget,
    private readonly sql: ClusterSql,
  ) {}

  async list(): Promise<LimitedTenantsAnswer> {
    const refusals = await this.budget.recentRefusals();
    if (refusals.length === 0) return { items: [] };
    const rows = await this.sql.query<{ id: string; name: string }>(
      `SELECT id::text AS id, name FROM tenants WHERE id = ANY($1::bigint[])`,
      [[...new Set(refusals.map((refusal) => refusal.tenantId))]],
    );
    const names = new Map(rows.map((row) => [row.id, row.name]));
    return {
      items: refusals.map((refusal) => ({
        tenantId: refusal.tenantId,
        tenantName: names.get(refusal.tenantId) ?? null,
        limit: refusal.kind,
        at: new Date(refusal.at),
      })),
    };
  }
}

/** For operators: which tenants hit their share (TENANT_RATE_LIMIT_PER_SECOND, TENANT_CONCURRENCY). */
@ApiTags('admin')
@Operator()
@Controller('admin/limited-tenants')
export class LimitedTenantsController {
  constructor(private readonly limited: LimitedTenants) {}

  @Get()
  @ApiOperation({ summary: 'Tenants refused for their fair share in the last five minutes' })
  @ApiOkResponse({ type: LimitedTenantsAnswer })
  list(): Promise<LimitedTenantsAnswer> {
    return this.limited.list();
  }
}
