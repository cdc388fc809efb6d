import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { NormalizedEmail, PasswordBytes } from '../../http/transforms';

export class EmailTokenDto {
  @ApiProperty({ description: 'The token from the mail (the line "Token: ...")' })
  @IsString()
  @Length(20, 600)
  token!: string;
}

export class EmailDto {
  @ApiProperty({ example: 'alice@example.com' })
  @NormalizedEmail()
  email!: string;
}

export class ResetPasswordDto extends EmailTokenDto {
  @ApiProperty({ minLength: 8, maxLength: 72, description: 'The new password' })
  @IsString()
  @PasswordBytes(8, 72)
  password!: string;
}

export class VerifiedDto {
  @ApiProperty()
  email!: string;

  @ApiProperty({
    description: 'A registration that waited for this confirmation now owns the email',
  })
  claimed!: boolean;
}

export class AcceptedDto {
  @ApiProperty({ example: 'accepted' })
  status!: 'accepted';
}
