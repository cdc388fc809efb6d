import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import {
  NormalizedEmail,
  Optional,
  PasswordBytes,
  Trim,
  TrimLowerCase,
} from '../../http/transforms';
import { UserView } from '../../users/dto/user.view';
import { TenantView } from './tenant.view';

export class RegisterDto {
  @ApiProperty({
    example: 'Acme Corp',
    description: 'New organisation, or one you were invited to',
  })
  @Trim()
  @IsString()
  @Length(2, 100)
  tenantName!: string;

  @ApiProperty({ example: 'alice', description: '3-32 of a-z 0-9 _ . - (stored lower-cased)' })
  @TrimLowerCase()
  @IsString()
  @Matches(/^[a-z0-9_.-]{3,32}$/, {
    message: 'username must be 3 to 32 characters of a-z, 0-9, _, . or -',
  })
  username!: string;

  @ApiProperty({ example: 'alice@example.com' })
  @NormalizedEmail()
  email!: string;

  @ApiProperty({ example: 'correct horse battery', minLength: 8, maxLength: 72 })
  @IsString()
  @PasswordBytes(8, 72)
  password!: string;

  @ApiPropertyOptional({ description: 'Invitation code to join an existing organisation' })
  @Optional()
  @Trim()
  @IsString()
  @Length(10, 200)
  inviteCode?: string;
}

export class RegistrationAccountDto {
  @ApiProperty({
    description: 'Whether the email is confirmed (a mail with a token was sent if not)',
  })
  emailVerified!: boolean;

  @ApiProperty({
    description:
      'false when the email belongs to an unconfirmed account of someone else: the new membership opens once you confirm the mail sent to it',
  })
  loginOpen!: boolean;
}

export class RegisterResponseDto {
  @ApiProperty({ type: TenantView })
  tenant!: TenantView;

  @ApiProperty({ type: UserView })
  user!: UserView;

  @ApiProperty({ type: RegistrationAccountDto })
  account!: RegistrationAccountDto;
}
