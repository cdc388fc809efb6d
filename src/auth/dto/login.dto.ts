import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length } from 'class-validator';
import { NormalizedEmail, Optional, PasswordBytes } from '../../http/transforms';

export class LoginDto {
  @ApiProperty({ example: 'alice@example.com' })
  @NormalizedEmail()
  email!: string;

  @ApiProperty({ example: 'correct horse battery' })
  @IsString()
  @PasswordBytes(1, 72)
  password!: string;

  @ApiPropertyOptional({
    description:
      'Tenant id or name; only needed when the same email and password belong to several tenants',
  })
  @Optional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value,
  )
  @IsString({ message: 'tenant must be a tenant id or name' })
  @Length(1, 100)
  tenant?: string;
}
