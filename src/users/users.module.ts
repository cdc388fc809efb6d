import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { MembersService } from './members.service';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [AccountsModule],
  controllers: [UsersController],
  providers: [UsersService, MembersService],
  exports: [UsersService, MembersService],
})
export class UsersModule {}
