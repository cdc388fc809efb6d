import { SkipThrottle } from '@nestjs/throttler';
import { Body, Controller, Get, Header, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { FastifyRequest as Request } from 'fastify';
import { Auth, CurrentUser, Public } from '../access/access.decorators';
import { AuthenticatedUser } from '../access/principal';
import { AuthRateLimitGuard } from '../rate-limit/auth-rate-limit';
import { clientOf } from '../rate-limit/client-address';
import { AuthService, VerifiedLogin } from './auth.service';
import { LoginResponseDto, MeResponseDto, SessionTokensDto } from './dto/auth-responses.dto';
import { LoginDto } from './dto/login.dto';
import { ChangePasswordDto, LogoutDto, RefreshDto } from './dto/session.dto';
import { LocalAuthGuard } from './local-auth.guard';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  // Wrong passwords slow down their own client (LoginBackoff), never the account for everyone.
  @SkipThrottle({ email: true })
  @UseGuards(AuthRateLimitGuard, LocalAuthGuard)
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiBody({ type: LoginDto })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; the message names it' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS (same answer for unknown email)' })
  @ApiTooManyRequestsResponse({
    description: 'Failed logins from this client for this email: wait Retry-After seconds',
  })
  @ApiConflictResponse({
    description: 'TENANT_CHOICE_REQUIRED, with `tenants: [{id, name}]` to choose from',
  })
  login(@Req() request: Request & { user: VerifiedLogin }): Promise<LoginResponseDto> {
    return this.auth.issueToken(request.user);
  }

  @Public()
  @UseGuards(AuthRateLimitGuard)
  @Post('refresh')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: SessionTokensDto, description: 'The next pair; the one sent is spent' })
  @ApiBadRequestResponse({ description: 'refreshToken is missing or not a string of 20 to 200' })
  @ApiTooManyRequestsResponse({ description: 'Rate limited per IP; see Retry-After' })
  @ApiUnauthorizedResponse({
    description:
      'UNAUTHENTICATED (unknown, expired or ended session), or SESSION_REVOKED: a spent token was replayed, so the session has ended',
  })
  refresh(@Body() dto: RefreshDto): Promise<SessionTokensDto> {
    return this.auth.refresh(dto.refreshToken);
  }

  @Auth()
  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse({
    description: 'The session ends, its access token with it, at once',
  })
  @ApiBadRequestResponse({ description: 'everywhere must be true or false' })
  logout(@CurrentUser() user: AuthenticatedUser, @Body() dto: LogoutDto): Promise<void> {
    return this.auth.logout(user, dto.everywhere === true);
  }

  @Auth()
  @UseGuards(AuthRateLimitGuard)
  @Post('password')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Changed; every session of the account has ended' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS: the current password is wrong' })
  @ApiBadRequestResponse({ description: 'The new password breaks a rule; the message names it' })
  @ApiTooManyRequestsResponse({
    description:
      'Rate limited per IP, or this client gave a wrong password for this account too often (as a login); see Retry-After',
  })
  changePassword(
    @CurrentUser() user: AuthenticatedUser,
    @Body() dto: ChangePasswordDto,
    @Req() request: Request,
  ): Promise<void> {
    return this.auth.changePassword(
      user,
      dto.currentPassword,
      dto.newPassword,
      clientOf(request.ip),
    );
  }

  @Auth()
  @Get('me')
  @ApiOkResponse({ type: MeResponseDto })
  me(@CurrentUser() user: AuthenticatedUser): Promise<MeResponseDto> {
    return this.auth.me(user);
  }
}
