// Lambda entry of the viewer REST API (the file CDK bundles, and the module the local stack runs
// in a worker thread): the one place its environment is read, once per cold start.
import { apiDepsFromEnv, createApiHandler } from '../api.ts';

export const handler = createApiHandler(apiDepsFromEnv(process.env));
