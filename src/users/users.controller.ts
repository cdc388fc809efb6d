import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth } from '../access/access.decorators';
import { ParseIdPipe } from '../http/id.pipe';
import { PageQueryDto } from '../http/pagination';
import { UserPageDto, UserView } from './dto/user.view';
import { UsersService } from './users.service';

@ApiTags('users')
@Auth()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOkResponse({ type: UserPageDto, description: 'Members of your tenant, newest first' })
  list(@Query() query: PageQueryDto): Promise<UserPageDto> {
    return this.users.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: UserView })
  async get(@Param('id', ParseIdPipe) id: string): Promise<UserView> {
    return UserView.from(await this.users.get(id));
  }
}
