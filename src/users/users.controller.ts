import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { Auth, CurrentUser } from '../access/access.decorators';
import { AuthenticatedUser } from '../access/principal';
import { ParseIdPipe } from '../http/id.pipe';
import { PageQueryDto } from '../http/pagination';
import { MANAGER_ROLES, USER_ROLES, UserRole } from '../roles/roles';
import { UserPageDto, UserView } from './dto/user.view';
import { MembersService } from './members.service';
import { UsersService } from './users.service';

export class ChangeRoleDto {
  @ApiProperty({ enum: USER_ROLES, description: 'owner makes them an owner too (a transfer)' })
  @IsIn(USER_ROLES, { message: `role must be one of ${USER_ROLES.join(', ')}` })
  role!: UserRole;
}

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly members: MembersService,
  ) {}

  @Get()
  @Auth()
  @ApiOkResponse({ type: UserPageDto, description: 'Members of your tenant, newest first' })
  list(@Query() query: PageQueryDto): Promise<UserPageDto> {
    return this.users.list(query);
  }

  @Get(':id')
  @Auth()
  @ApiOkResponse({ type: UserView })
  @ApiNotFoundResponse({ description: 'USER_NOT_FOUND (also for removed members)' })
  async get(@Param('id', ParseIdPipe) id: string): Promise<UserView> {
    return UserView.from(await this.users.get(id));
  }

  @Patch(':id')
  @Auth(...MANAGER_ROLES)
  @ApiOkResponse({ type: UserView, description: "Owners only; ends the member's sessions" })
  @ApiBadRequestResponse({ description: 'The id is not a user id, or role is not a role' })
  @ApiNotFoundResponse({ description: 'USER_NOT_FOUND' })
  @ApiConflictResponse({ description: 'LAST_OWNER: the last owner cannot be demoted' })
  async changeRole(
    @CurrentUser() actor: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: ChangeRoleDto,
  ): Promise<UserView> {
    return UserView.from(await this.members.changeRole(actor, id, dto.role));
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth(...MANAGER_ROLES)
  @ApiNoContentResponse({ description: 'Removed: their notes stay, their login here ends' })
  @ApiBadRequestResponse({ description: 'The id is not a user id' })
  @ApiNotFoundResponse({ description: 'USER_NOT_FOUND' })
  @ApiConflictResponse({ description: 'LAST_OWNER: the last owner cannot be removed' })
  remove(
    @CurrentUser() actor: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: string,
  ): Promise<void> {
    return this.members.remove(actor, id);
  }
}
