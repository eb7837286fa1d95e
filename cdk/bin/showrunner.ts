// The CDK app: `npx cdk synth` / `npx cdk deploy` (cdk.json runs `node cdk/bin/showrunner.ts`).
// Context (-c key=value): audience (viewers per show, default 1,000), channelArn, extraChannelArns
// (comma-separated), channelType, controlDomainPrefix, siteDir, tracing, retainData,
// apiGatewayCloudWatchRole (default true; false where the account's API Gateway logging role is managed centrally),
// stateMachineLogLevel (ERROR|ALL), stateMachineLogExecutionData (true|false), wafTokenLimit and
// wafVoteLimit (requests per IP address per 60 s; default from the audience, cdk/lib/waf.ts).
// Stack parameter: AlarmEmail (`cdk deploy --parameters AlarmEmail=you@example.com`).
// cdk-nag's AwsSolutions pack checks the app at synth: an unacknowledged finding fails synth.
import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import nag from 'cdk-nag';
import { DefinitionError } from '../lib/asl.ts';
import { ConfigurationError, ShowrunnerStack, type ShowrunnerStackProps } from '../lib/showrunner-stack.ts';
import { STATE_MACHINE_LOG_LEVEL_CONTEXT_KEY, parseStateMachineLogLevel } from '../lib/monitoring.ts';
import {
  AUDIENCE_CONTEXT_KEY,
  SETS_API_GATEWAY_CLOUDWATCH_ROLE_BY_DEFAULT,
  parseAudience,
} from '../../core/sizing.ts';
import { WAF_TOKEN_LIMIT_CONTEXT_KEY, WAF_VOTE_LIMIT_CONTEXT_KEY, parseWafLimit } from '../lib/waf.ts';

const CHANNEL_TYPES = ['STANDARD', 'BASIC', 'ADVANCED_SD', 'ADVANCED_HD'] as const;

export function propsFromContext(app: App): ShowrunnerStackProps {
  const text = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value).trim();
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const value = text(key);
    if (value === undefined) return fallback;
    if (value === 'true' || value === 'false') return value === 'true';
    throw new ConfigurationError(`-c ${key}=${value}: expected true or false`);
  };
  const channelType = text('channelType');
  if (channelType !== undefined && !(CHANNEL_TYPES as readonly string[]).includes(channelType)) {
    throw new ConfigurationError(
      `-c channelType=${channelType}: expected one of ${CHANNEL_TYPES.join(', ')}`,
    );
  }
  const siteDir = text('siteDir');
  return {
    description:
      'showrunner: interactive live shows on Amazon IVS (channel, API, state machine, viewer site)',
    audience: parseAudience(app.node.tryGetContext(AUDIENCE_CONTEXT_KEY)),
    channelArn: text('channelArn'),
    extraChannelArns: text('extraChannelArns')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    channelType: channelType as ShowrunnerStackProps['channelType'],
    // Checked by the stack (checkControlDomainPrefix), as a prop given in code would be.
    controlDomainPrefix: text('controlDomainPrefix'),
    siteDir: siteDir === undefined ? undefined : resolve(siteDir),
    tracing: flag('tracing', true),
    retainData: flag('retainData', false),
    apiGatewayCloudWatchRole: flag('apiGatewayCloudWatchRole', SETS_API_GATEWAY_CLOUDWATCH_ROLE_BY_DEFAULT),
    stateMachineLogLevel: parseStateMachineLogLevel(
      app.node.tryGetContext(STATE_MACHINE_LOG_LEVEL_CONTEXT_KEY),
    ),
    stateMachineLogExecutionData: flag('stateMachineLogExecutionData', false),
    wafTokenLimit: parseWafLimit(
      WAF_TOKEN_LIMIT_CONTEXT_KEY,
      app.node.tryGetContext(WAF_TOKEN_LIMIT_CONTEXT_KEY),
    ),
    wafVoteLimit: parseWafLimit(
      WAF_VOTE_LIMIT_CONTEXT_KEY,
      app.node.tryGetContext(WAF_VOTE_LIMIT_CONTEXT_KEY),
    ),
  };
}

export function createApp(app = new App()): App {
  new ShowrunnerStack(app, 'Showrunner', propsFromContext(app));
  Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app));
  return app;
}

if (import.meta.main) {
  try {
    createApp().synth();
  } catch (error) {
    // Our own input errors are explained in their message; a stack trace would only hide it.
    if (error instanceof ConfigurationError || error instanceof DefinitionError) {
      console.error(`\nshowrunner: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
