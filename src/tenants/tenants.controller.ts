import { Body, Controller, Get, Header, HttpCode, Post } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Auth, CurrentUser } from '../access/access.decorators';
import { AuthenticatedUser } from '../access/principal';
import { MANAGER_ROLES } from '../roles/roles';
import { MembersService } from '../users/members.service';
import { CreateInvitationDto, InvitationCreatedDto } from './dto/create-invitation.dto';
import { TenantView } from './dto/tenant.view';
import { InvitationsService } from './invitations.service';
import { TenantsService } from './tenants.service';

@ApiTags('tenants')
@Controller('tenants/current')
export class TenantsController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly invitations: InvitationsService,
    private readonly members: MembersService,
  ) {}

  @Get()
  @Auth()
  @ApiOkResponse({ type: TenantView })
  async current(): Promise<TenantView> {
    return TenantView.from(await this.tenants.current());
  }

  @Post('leave')
  @Auth()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'You are no longer a member; your notes stay' })
  @ApiConflictResponse({ description: 'LAST_OWNER: make someone else owner first' })
  leave(@CurrentUser() user: AuthenticatedUser): Promise<void> {
    return this.members.leave(user);
  }

  @Post('invitations')
  @Auth(...MANAGER_ROLES)
  // The code lets anyone join: it is a credential, kept out of every cache.
  @Header('Cache-Control', 'no-store')
  @ApiCreatedResponse({ type: InvitationCreatedDto })
  invite(
    @CurrentUser() user: AuthenticatedUser,
    @Body() dto: CreateInvitationDto,
  ): Promise<InvitationCreatedDto> {
    return this.invitations.create(user, dto);
  }
}
