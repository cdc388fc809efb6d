import { Global, Module } from '@nestjs/common';
import { PasswordHasher } from './passwords';

/** One password hasher (and one dummy hash) for tenant users and operators alike. */
@Global()
@Module({ providers: [PasswordHasher], exports: [PasswordHasher] })
export class CredentialsModule {}
