// Lambda entry of the poll lifecycle (the file CDK bundles): the one place its environment is
// read, once per cold start. The local Step Functions runs the same factory with the local
// stack's store and settings instead (local/server.ts).
import { createObservability } from '../observability.ts';
import { createPollLifecycleHandler, pollLifecycleDepsFromEnv } from '../poll-lifecycle.ts';

const observability = await createObservability({
  serviceName: 'showrunner-poll-lifecycle',
  env: process.env,
});
export const handler = createPollLifecycleHandler({
  ...pollLifecycleDepsFromEnv(process.env),
  observability,
});
