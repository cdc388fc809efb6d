import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { CreateInvitationDto, InvitationCreatedDto } from './dto/create-invitation.dto';
import { TenantView } from './dto/tenant.view';
import { TenantsService } from './tenants.service';

@ApiTags('tenants')
@Controller('tenants/current')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Get()
  @Auth()
  @ApiOkResponse({ type: TenantView })
  async current(): Promise<TenantView> {
    return TenantView.from(await this.tenants.current());
  }

  @Post('invitations')
  @Auth('owner', 'admin')
  @ApiCreatedResponse({ type: InvitationCreatedDto })
  invite(
    @CurrentUser() user: AuthenticatedUser,
    @Body() dto: CreateInvitationDto,
  ): Promise<InvitationCreatedDto> {
    return this.tenants.createInvitation(user, dto);
  }
}
