import { ApiProperty } from '@nestjs/swagger';
import { Paginated } from '../../http/pagination';
import { UserEntity } from '../user.entity';
import { USER_ROLES, UserRole } from '../../roles/roles';

/** What the API shows of a user. The password hash has no field here, so it cannot leak. */
export class UserView {
  @ApiProperty({ example: '42', description: 'bigint id, as a string' })
  id!: string;

  @ApiProperty()
  username!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty({ enum: USER_ROLES })
  role!: UserRole;

  @ApiProperty()
  createdAt!: Date;

  static from(user: UserEntity): UserView {
    return {
      id: user.id,
      username: user.username,
      email: user.email,
      role: user.role,
      createdAt: user.createdAt,
    };
  }
}

export class UserPageDto extends Paginated(UserView) {}
