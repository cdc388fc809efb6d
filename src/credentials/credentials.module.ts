import { DynamicModule, FactoryProvider, Global, Module, ModuleMetadata } from '@nestjs/common';
import { BCRYPT_COST, PasswordHasher } from './passwords';

/** One password hasher (and one dummy hash) for tenant users and operators alike. */
@Global()
@Module({})
export class CredentialsModule {
  static forRootAsync(
    options: Pick<ModuleMetadata, 'imports'> & Omit<FactoryProvider<number>, 'provide'>,
  ): DynamicModule {
    return {
      module: CredentialsModule,
      imports: options.imports,
      providers: [
        { provide: BCRYPT_COST, inject: options.inject, useFactory: options.useFactory },
        PasswordHasher,
      ],
      exports: [PasswordHasher],
    };
  }
}
