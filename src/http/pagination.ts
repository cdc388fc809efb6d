import { Type as ClassType } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { Optional } from './transforms';
import { IsId } from './id.pipe';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/**
 * Keyset pagination: the cursor is the last id of the previous page, so a page costs the same
 * however deep it is (`WHERE tenant_id = $1 AND id < $cursor ORDER BY id DESC LIMIT n`).
 */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @Optional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(MAX_PAGE_SIZE, { message: `limit must be at most ${MAX_PAGE_SIZE}` })
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @Optional()
  @IsId({ message: 'cursor must be a nextCursor value from a previous page' })
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The page answer of every list: `class NotePageDto extends Paginated(NoteView) {}`. */
export function Paginated<T>(item: ClassType<T>): ClassType<Page<T>> {
  class PageOf implements Page<T> {
    @ApiProperty({ type: [item] })
    items!: T[];

    @ApiProperty({
      type: String,
      nullable: true,
      description: 'Pass it back as `cursor` for the next page; null on the last page',
    })
    nextCursor!: string | null;
  }
  return PageOf;
}

/**
 * Expects `limit + 1` rows: the extra row only tells whether another page exists, and the cursor
 * is the key of the last row shown.
 */
export function takePage<R>(
  rows: R[],
  limit: number,
  cursorOf: (row: R) => string,
): { rows: R[]; nextCursor: string | null } {
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(0, limit) : rows;
  return { rows: page, nextCursor: hasMore ? cursorOf(page[page.length - 1]) : null };
}

export function toPage<R extends { id: string }, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
): Page<T> {
  const page = takePage(rows, limit, (row) => row.id);
  return { items: page.rows.map(map), nextCursor: page.nextCursor };
}
