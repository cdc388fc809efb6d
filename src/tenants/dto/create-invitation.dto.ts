import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, Max, Min } from 'class-validator';
import { Optional } from '../../http/transforms';
import { INVITABLE_ROLES, InvitableRole } from '../../roles/roles';
export const MAX_INVITATION_HOURS = 720;

export class CreateInvitationDto {
  @ApiPropertyOptional({ enum: INVITABLE_ROLES, default: 'member' })
  @Optional()
  @IsIn(INVITABLE_ROLES, { message: 'role must be admin or member' })
  role?: InvitableRole;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_INVITATION_HOURS, default: 72 })
  @Optional()
  @Type(() => Number)
  @IsInt({ message: 'expiresInHours must be an integer' })
  @Min(1)
  @Max(MAX_INVITATION_HOURS)
  expiresInHours?: number;
}

export class InvitationCreatedDto {
  @ApiProperty({ description: 'Give this to the person joining; it is shown once and single-use' })
  code!: string;

  @ApiProperty()
  expiresAt!: Date;

  @ApiProperty({ enum: INVITABLE_ROLES })
  role!: InvitableRole;
}
