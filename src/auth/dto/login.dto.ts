import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Length } from 'class-validator';
import { NormalizedEmail, PasswordBytes } from '../../http/transforms';

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
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value,
  )
  @IsString({ message: 'tenant must be a tenant id or name' })
  @Length(1, 100)
  tenant?: string;
}
