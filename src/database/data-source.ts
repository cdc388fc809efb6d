import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadDatabaseUrl } from '../config/app-config';
import { buildDataSourceOptions } from './data-source-options';

// Entry point for the TypeORM CLI (`npm run migration:run`): the same options as the app, and
// DATABASE_URL checked by the same schema.
export default new DataSource(buildDataSourceOptions({ url: loadDatabaseUrl() }));
