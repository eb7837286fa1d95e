// Lambda entry of the viewer REST API (the file CDK bundles, and the module the local stack runs
// in a worker thread): the one place its environment is read, once per cold start.
import { apiDepsFromEnv, createApiHandler } from '../api.ts';
import { createObservability } from '../observability.ts';

const observability = await createObservability({ serviceName: 'showrunner-api', env: process.env });
export const handler = createApiHandler({ ...apiDepsFromEnv(process.env), observability });
