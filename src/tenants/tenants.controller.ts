import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentUser } from '../access/access.decorators';
import { AuthenticatedUser } from '../access/principal';
import { MANAGER_ROLES } from '../roles/roles';
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
  ) {}

  @Get()
  @Auth()
  @ApiOkResponse({ type: TenantView })
  async current(): Promise<TenantView> {
    return TenantView.from(await this.tenants.current());
  }

  @Post('invitations')
  @Auth(...MANAGER_ROLES)
  @ApiCreatedResponse({ type: InvitationCreatedDto })
  invite(
    @CurrentUser() user: AuthenticatedUser,
    @Body() dto: CreateInvitationDto,
  ): Promise<InvitationCreatedDto> {
    return this.invitations.create(user, dto);
  }
}
