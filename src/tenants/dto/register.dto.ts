import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { NewAccountEmail, Optional, PasswordBytes, Trim } from '../../http/transforms';
import { TenantNameField, UsernameField } from '../../names/name-fields';
import { UserView } from '../../users/dto/user.view';
import { TenantView } from './tenant.view';

export class RegisterDto {
  @ApiProperty({
    example: 'Acme Corp',
    minLength: 2,
    maxLength: 100,
    description:
      'New organisation, or one you were invited to. Stored in NFKC form with runs of spaces ' +
      'made one; no control, format (zero-width, bidi) or other invisible characters; taken ' +
      'when an existing name looks the same (case, accents and look-alike letters aside)',
  })
  @TenantNameField()
  tenantName!: string;

  @ApiProperty({
    example: 'alice',
    description:
      '3-32 of a-z 0-9 _ . - (stored NFKC and lower-cased); taken in the tenant when an ' +
      'existing username looks the same (1/l/i, 0/o, rn/m)',
  })
  @UsernameField()
  username!: string;

  @ApiProperty({
    example: 'alice@example.com',
    description: 'In NFKC form: no fullwidth or styled letters',
  })
  @NewAccountEmail()
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
