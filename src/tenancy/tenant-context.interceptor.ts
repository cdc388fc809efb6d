import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Request } from 'express';
import { Observable } from 'rxjs';
import { Principal } from '../auth/authenticated-user';
import { TenantContext } from './tenant-context';

/**
 * Runs the rest of the request (handler and everything it awaits) inside the tenant scope of the
 * verified token. The token is the only source: headers and bodies are never consulted.
 */
@Injectable()
export class TenantContextInterceptor implements NestInterceptor {
  constructor(private readonly context: TenantContext) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = execution.switchToHttp().getRequest<Request & { user?: Principal }>();
    const user = request.user;
    if (user?.kind !== 'user') return next.handle();
    const scope = { tenantId: user.tenantId, userId: user.userId, role: user.role };
    // next.handle() is lazy: subscribing inside run() makes the handler execute in the scope.
    return new Observable((subscriber) =>
      this.context.run(scope, () => next.handle().subscribe(subscriber)),
    );
  }
}
