import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { NodeView } from './catalog.dto';

/** A DNS name (RFC 1123 labels), an IPv4 address, or an IPv6 address without brackets. */
const HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)$/;
const HOST_RULE = 'host must be a host name or an IP address';
const PORT_RULE = 'port must be an integer from 1 to 65535';

export class AddNodeDto {
  @ApiProperty({
    example: '10.0.0.13',
    description: 'As the coordinator (and every other node) reaches the new worker',
    maxLength: 253,
    pattern: HOST_PATTERN.source,
  })
  @IsString({ message: HOST_RULE })
  @MaxLength(253, { message: 'host must be at most 253 characters' })
  @Matches(HOST_PATTERN, { message: HOST_RULE })
  host!: string;

  @ApiProperty({ example: 5432, type: 'integer', minimum: 1, maximum: 65_535 })
  @IsInt({ message: PORT_RULE })
  @Min(1, { message: PORT_RULE })
  @Max(65_535, { message: PORT_RULE })
  port!: number;
}

export class AddNodeAnswer {
  @ApiProperty({ description: 'false when the node was already in the cluster' })
  added!: boolean;

  @ApiProperty({ type: NodeView })
  node!: NodeView;
}
