import { Injectable } from '@nestjs/common';
import { ClusterSql } from '../database/admin-database';
import { RegistrationsAnswer } from './dto/registration.view';

interface Row {
  tenant_id: string;
  tenant_name: string;
  user_id: string;
  username: string;
  email: string;
  role: string;
  created_at: Date;
}

/** Newest members across every tenant: a cross-shard read, so on the operators' connection. */
@Injectable()
export class RecentRegistrations {
  constructor(private readonly sql: ClusterSql) {}

  async list(limit: number): Promise<RegistrationsAnswer> {
    const rows = await this.sql.query<Row>(
      `SELECT u.tenant_id, t.name AS tenant_name, u.id AS user_id, u.username, u.email, u.role,
              u.created_at
         FROM users u JOIN tenants t ON t.id = u.tenant_id
        ORDER BY u.created_at DESC, u.tenant_id DESC, u.id DESC
        LIMIT $1`,
      [limit],
    );
    return {
      items: rows.map((row) => ({
        tenantId: String(row.tenant_id),
        tenantName: row.tenant_name,
        userId: String(row.user_id),
        username: row.username,
        email: row.email,
        role: row.role,
        createdAt: row.created_at,
      })),
    };
  }
}
