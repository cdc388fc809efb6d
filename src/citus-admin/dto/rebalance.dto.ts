import { ApiProperty } from '@nestjs/swagger';

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
