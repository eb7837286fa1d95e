// Inside a LambdaWorker's thread: load the entry module once (the cold start: it reads the
// thread's environment and builds its clients), then answer each event with the handler's result,
// as the Lambda runtime does.
import { parentPort, workerData } from 'node:worker_threads';
import type { Handler } from 'aws-lambda';
import { lambdaContext } from './context.ts';

const { modulePath, functionName } = workerData as { modulePath: string; functionName: string };
const port = parentPort!;

try {
  const { handler } = (await import(modulePath)) as { handler: Handler };
  port.on('message', async ({ id, event }: { id: number; event: unknown }) => {
    try {
      const result = await handler(event, lambdaContext(functionName), () => undefined);
      port.postMessage({ id, result });
    } catch (error) {
      port.postMessage({
        id,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  });
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ ready: false, error: (error as Error).message });
}
