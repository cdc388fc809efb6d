import { createHash } from 'node:crypto';
import { EntityMetadata, FindOperator } from 'typeorm';
import { Statement } from '../database/sql';

export interface Column {
  property: string;
  sql: string;
  selected: boolean;
  updateDate: boolean;
}

export const quote = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

const OPERATORS: Record<string, string> = { equal: '=', lessThan: '<', moreThan: '>' };

/**
 * The SQL of one table, built from its TypeORM metadata. Statements are built once per shape
 * (operation, columns, operators) and cached, so a request pays for a Map lookup, not a query
 * builder; each gets a stable name for a server-side prepared statement.
 */
export class ScopedTable {
  readonly name: string;
  private readonly columns = new Map<string, Column>();
  private readonly tenantColumn: Column;
  private readonly statements = new Map<string, Statement>();

  constructor(metadata: EntityMetadata) {
    this.name = metadata.tableName;
    for (const column of metadata.columns) {
      this.columns.set(column.propertyName, {
        property: column.propertyName,
        sql: quote(column.databaseName),
        selected: column.isSelect,
        updateDate: column.isUpdateDate,
      });
    }
    const tenant = this.columns.get('tenantId');
    if (!tenant) throw new Error(`${this.name} has no tenantId column: not tenant-owned`);
    this.tenantColumn = tenant;
  }

  column(property: string, operation: string): Column {
    const column = this.columns.get(property);
    if (!column) throw new Error(`${operation}: ${this.name} has no column "${property}"`);
    return column;
  }

  selectList(select?: string[]): string {
    const chosen = select
      ? select.map((property) => this.column(property, `${this.name}.select`))
      : [...this.columns.values()].filter((column) => column.selected);
    return chosen.map((column) => `${column.sql} AS ${quote(column.property)}`).join(', ');
  }

  /** Cached by `key`; `build` runs once per distinct key. */
  statement(key: string, build: () => string): Statement {
    let statement = this.statements.get(key);
    if (!statement) {
      const text = build();
      const digest = createHash('sha1').update(text).digest('hex').slice(0, 16);
      statement = { text, name: `${this.name}_${digest}` };
      this.statements.set(key, statement);
    }
    return statement;
  }

  /**
   * `tenant_id = $1` followed by every criterion, in order. Returns the SQL, the parameters
   * after the tenant id, and a key describing the shape (which columns, which operators).
   */
  where(where: Record<string, unknown>, operation: string, first: number): Condition {
    const parts = [`${this.tenantColumn.sql} = $1`];
    const params: unknown[] = [];
    const shape: string[] = [];
    for (const [property, value] of Object.entries(where)) {
      if (value === undefined) {
        // TypeORM would drop it and widen the query to every row: fail closed instead.
        throw new Error(
          `${operation}: criterion "${property}" is undefined; refusing to widen the query`,
        );
      }
      if (property === 'tenantId') continue;
      const column = this.column(property, operation).sql;
      if (value instanceof FindOperator) {
        const operator = value as FindOperator<unknown>;
        if (operator.type === 'isNull') {
          parts.push(`${column} IS NULL`);
          shape.push(`${property} null`);
          continue;
        }
        const sql = OPERATORS[operator.type];
        if (!sql) throw new Error(`${operation}: operator ${operator.type} is not supported`);
        params.push(operator.value);
        parts.push(`${column} ${sql} $${first + params.length}`);
        shape.push(`${property} ${sql}`);
      } else if (value === null) {
        throw new Error(`${operation}: use IsNull() for "${property}", not null`);
      } else {
        params.push(value);
        parts.push(`${column} = $${first + params.length}`);
        shape.push(`${property} =`);
      }
    }
    return { sql: parts.join(' AND '), params, shape: shape.join(',') };
  }

  get updateDateColumns(): Column[] {
    return [...this.columns.values()].filter((column) => column.updateDate);
  }
}

export interface Condition {
  sql: string;
  params: unknown[];
  shape: string;
}
