import { ApiProperty } from '@nestjs/swagger';
import { TenantView } from '../../tenants/dto/tenant.view';
import { UserView } from '../../users/dto/user.view';

export class SessionTokensDto {
  @ApiProperty({ description: 'Short-lived: send as Authorization: Bearer <accessToken>' })
  accessToken!: string;

  @ApiProperty({ example: 'Bearer' })
  tokenType!: 'Bearer';

  @ApiProperty({ description: 'Seconds until the access token expires', example: 300 })
  expiresIn!: number;

  @ApiProperty({
    description: 'Single-use: POST it to /auth/refresh for the next pair; keep it secret',
  })
  refreshToken!: string;

  @ApiProperty({ description: 'Seconds until the session ends unless refreshed earlier' })
  refreshExpiresIn!: number;
}

export class LoginResponseDto extends SessionTokensDto {
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
