import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsString, Length } from 'class-validator';
import { Optional, PasswordBytes } from '../../http/transforms';

export class RefreshDto {
  @ApiProperty()
  @IsString()
  @Length(20, 200)
  refreshToken!: string;
}

export class LogoutDto {
  @ApiPropertyOptional({ description: 'End every session of your account, in every tenant' })
  @Optional()
  @IsBoolean({ message: 'everywhere must be true or false' })
  everywhere?: boolean;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @PasswordBytes(1, 72)
  currentPassword!: string;

  @ApiProperty({ minLength: 8, maxLength: 72 })
  @IsString()
  @PasswordBytes(8, 72)
  newPassword!: string;
}
