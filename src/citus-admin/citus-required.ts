import { AppError } from '../errors/app-error';

export function citusRequired(action: string): AppError {
  return new AppError(
    'CITUS_REQUIRED',
    `${action} needs a Citus cluster; this database is a plain PostgreSQL`,
  );
}
