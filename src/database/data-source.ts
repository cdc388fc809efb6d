import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './data-source-options';

// Entry point for the TypeORM CLI (`npm run migration:run`); the app builds the same options.
const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error('DATABASE_URL is required to run migrations');
}

export default new DataSource(buildDataSourceOptions({ url }));
