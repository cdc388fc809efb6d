import { ApiProperty } from '@nestjs/swagger';
import { UserView } from '../../users/dto/user.view';
import { TenantView } from '../../tenants/dto/tenant.view';

export class LoginResponseDto {
  @ApiProperty()
  accessToken!: string;

  @ApiProperty({ example: 'Bearer' })
  tokenType!: 'Bearer';

  @ApiProperty({ description: 'Seconds until the token expires', example: 3600 })
  expiresIn!: number;

  @ApiProperty({ type: UserView })
  user!: UserView;

  @ApiProperty({ type: TenantView })
  tenant!: TenantView;
}

export class MeResponseDto {
  @ApiProperty({ type: UserView })
  user!: UserView;

  @ApiProperty({ type: TenantView })
  tenant!: TenantView;
}
