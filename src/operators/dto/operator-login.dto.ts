import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { NormalizedEmail, PasswordBytes } from '../../http/transforms';

export class OperatorLoginDto {
  @ApiProperty({ example: 'ops@example.com' })
  @NormalizedEmail()
  email!: string;

  @ApiProperty()
  @IsString()
  @PasswordBytes(1, 72)
  password!: string;
}

export class OperatorTokenDto {
  @ApiProperty({ description: 'Use with the "operator" security scheme' })
  accessToken!: string;

  @ApiProperty({ example: 'Bearer' })
  tokenType!: 'Bearer';

  @ApiProperty({ example: 3600 })
  expiresIn!: number;
}
