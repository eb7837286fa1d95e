// Lambda entry of the producer API (the file CDK bundles): the one place its environment is read,
// once per cold start. Locally the stack runs the same factory with its own clients (local/server.ts).
import { createObservability } from '../observability.ts';
import { createProducerHandler, producerDepsFromEnv } from '../producer.ts';

const observability = await createObservability({ serviceName: 'showrunner-producer', env: process.env });
export const handler = createProducerHandler({ ...producerDepsFromEnv(process.env), observability });
