// The local stack for the CLI tests: the real composition root (startLocalStack) in this process,
// on free ports, without RTMP ingest or the demo, so tests can reach its IVS and Step Functions.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { LocalIvs } from '../../local/ivs/index.ts';
import type { LocalStepFunctions } from '../../local/sfn/index.ts';
import { startLocalStack } from '../../local/server.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface TestStack {
  appUrl: string;
  edgeUrl: string;
  edgePort: number;
  dataDir: string;
  ivs: LocalIvs;
  sfn: LocalStepFunctions;
  client: SFNClient;
  close(): Promise<void>;
}

export async function composeStack(
  options: { dataDir?: string; edgePort?: number } = {},
): Promise<TestStack> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'showrunner-cli-')));
  const stack = await startLocalStack({
    port: 0,
    edgePort: options.edgePort ?? 0,
    dataDir,
    rtmpPort: null,
    log: () => {},
    // This process is the test's: no EMF metric lines among its output.
    lambdaEnv: { POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' },
  });
  if (!stack.ivs) throw new Error('the CLI tests need ffmpeg for the local stream');
  const client = new SFNClient({
    endpoint: stack.edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    appUrl: stack.appUrl,
    edgeUrl: stack.edgeUrl,
    edgePort: Number(new URL(stack.edgeUrl).port),
    dataDir,
    ivs: stack.ivs,
    sfn: stack.sfn,
    client,
    async close() {
      client.destroy();
      await stack.close();
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node cli/showrunner.ts …` as a producer does. */
export function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      ['cli/showrunner.ts', ...args],
      { cwd: ROOT, env: { ...process.env, AWS_ENDPOINT_URL: '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}
