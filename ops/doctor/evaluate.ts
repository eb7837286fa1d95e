// doctor, the pure half: what a stack sized for an audience needs from the account (core/sizing.ts)
// against what the account has (facts.ts reads them), as one line per check: OK, WARN, FAIL or INFO,
// and for a FAIL the quota to raise or the command that fixes it. No I/O: the tests feed it facts.
//
// FAIL means the deploy would fail (CloudFormation refuses a resource), or the stack as sized needs a
// quota the account does not have (sizing's quotaRaises: "raise before deploying"). WARN means the
// deploy goes through but something is short or could not be read. INFO is context.
import {
  ASSUMPTIONS,
  AWS_LIMITS,
  SETS_API_GATEWAY_CLOUDWATCH_ROLE_BY_DEFAULT,
  fmt,
  type Sizing,
} from '../../core/sizing.ts';

export type Status = 'OK' | 'WARN' | 'FAIL' | 'INFO';

/** A Service Quotas quota, as `aws service-quotas request-service-quota-increase` names it. */
export interface QuotaRef {
  serviceCode: string;
  quotaCode: string;
  /** The quota's name in Service Quotas. */
  name: string;
}

/** The quotas the stack depends on (codes as the Service Quotas console and API list them). */
export const QUOTAS = {
  lambdaConcurrency: { serviceCode: 'lambda', quotaCode: 'L-B99A9384', name: 'Concurrent executions' },
  apiGatewayThrottle: { serviceCode: 'apigateway', quotaCode: 'L-8A5B8E43', name: 'Throttle rate' },
  dynamoDbTableWrites: {
    serviceCode: 'dynamodb',
    quotaCode: 'L-AB614373',
    name: 'Table-level write throughput limit',
  },
  dynamoDbTableReads: {
    serviceCode: 'dynamodb',
    quotaCode: 'L-CF0CBE56',
    name: 'Table-level read throughput limit',
  },
} as const satisfies Record<string, QuotaRef>;

/** The Service Quotas quota behind each of sizing's quotaRaises (by its `name`). */
export const QUOTA_FOR_RAISE: Record<string, QuotaRef> = {
  'API Gateway': QUOTAS.apiGatewayThrottle,
  Lambda: QUOTAS.lambdaConcurrency,
  'DynamoDB writes': QUOTAS.dynamoDbTableWrites,
  'DynamoDB reads': QUOTAS.dynamoDbTableReads,
};

/**
 * The CDK bootstrap versions that matter: the stack's template refuses to deploy below MIN (aws-cdk-lib's
 * DefaultStackSynthesizer, its CheckBootstrapVersion rule); the installed CDK CLI bootstraps LATEST.
 * test/unit/doctor.test.ts reads both from node_modules, so an upgrade that moves them fails there.
 */
export const CDK_BOOTSTRAP = {
  qualifier: 'hnb659fds',
  parameter: '/cdk-bootstrap/hnb659fds/version',
  toolkitStack: 'CDKToolkit',
  minVersion: 6,
  latestVersion: 33,
} as const;

/**
 * IVS PutMetadata: 5 requests/s per channel and 155/s per account, fixed API rate limits (IVS's API
 * call rate quotas are not adjustable, and not in Service Quotas). A show sends at most 2 cues in one
 * second on its channel: a question or results cue and the tally cue.
 */
export const IVS_PUT_METADATA = {
  perChannelPerSecond: 5,
  perAccountPerSecond: 155,
  showPeakPerSecond: 2,
} as const;

/** Why a fact could not be read. */
export interface ReadError {
  kind: 'access-denied' | 'credentials' | 'unreachable' | 'other';
  /** The error's name (AccessDeniedException, ExpiredToken…). */
  name: string;
  message: string;
  /** The IAM action the call needs (lambda:GetAccountSettings…). */
  action?: string;
}

export type Reading<T> = { ok: true; value: T } | { ok: false; error: ReadError };

export const read = <T>(value: T): Reading<T> => ({ ok: true, value });
export const unread = <T>(error: ReadError): Reading<T> => ({ ok: false, error });

/** A quota as Service Quotas has it for this account (applied) and as AWS sets it for every account. */
export interface QuotaValue {
  /** Undefined: Service Quotas has no applied value for this account (AWS's default applies). */
  applied?: number;
  defaultValue?: number;
  /** The applied quota's ARN (arn:aws:servicequotas:REGION:ACCOUNT:…): carries the account id. */
  arn?: string;
}

/** One of the stack's Lambda functions, deployed, and the concurrency it reserves now. */
export interface DeployedFunction {
  name: string;
  reservedConcurrency?: number;
}

export interface DeployedStack {
  status: string;
  /** The stack's `Audience` output, when it has one. */
  audience?: number;
  functions: DeployedFunction[];
}

/** Everything the doctor reads from the account, each on its own (a refused call spoils only its line). */
export interface AccountFacts {
  region: string;
  /** The 12-digit account id, from an ARN one of the calls returned. */
  account?: string;
  lambda: Reading<{ concurrentExecutions: number; unreservedConcurrentExecutions: number }>;
  /** The stack named --stack: undefined when it is not deployed (a first deploy). */
  stack: Reading<DeployedStack | undefined>;
  apiGateway: Reading<{ cloudWatchRoleArn?: string; rateLimit?: number; burstLimit?: number }>;
  dynamoDb: Reading<{ tableMaxReadCapacityUnits?: number; tableMaxWriteCapacityUnits?: number }>;
  ivsChannels: Reading<number>;
  /** IVS quotas from Service Quotas (service code ivs), by name. */
  ivsQuotas: Reading<Array<{ name: string; code: string; value: number }>>;
  /** The bootstrap version: undefined when the account and region are not bootstrapped. */
  bootstrap: Reading<{ version?: number; source: 'ssm' | 'cloudformation' }>;
  /** Whether the account has at least one CloudFront distribution. */
  cloudFront: Reading<{ distributions: number }>;
  /** Service Quotas values, by quota code. */
  quotas: Record<string, Reading<QuotaValue>>;
}

export interface CheckLine {
  status: Status;
  service: string;
  check: string;
  needs: string;
  has: string;
  /** What to do about a FAIL or WARN: a quota to raise or a command. */
  fix?: string;
  /** The quota to raise, and to what. */
  raise?: QuotaRef & { to: number };
}

export interface DoctorReport {
  region: string;
  account?: string;
  stackName: string;
  audience: number;
  defaultAudience: boolean;
  lines: CheckLine[];
  /** false when any line FAILs: the deploy would fail (or the stack as sized cannot serve its audience). */
  ok: boolean;
}

export interface DoctorInput {
  sizing: Sizing;
  defaultAudience: boolean;
  stackName: string;
  facts: AccountFacts;
  /** Default SETS_API_GATEWAY_CLOUDWATCH_ROLE_BY_DEFAULT. */
  stackSetsApiGatewayRole?: boolean;
}

/** The quotas whose Service Quotas values the doctor reads: Lambda's always, the others when sizing names them. */
export function quotasToRead(sizing: Sizing): QuotaRef[] {
  const refs = [QUOTAS.lambdaConcurrency, ...sizing.quotaRaises.map((q) => QUOTA_FOR_RAISE[q.name])];
  return [...new Map(refs.filter((q) => q !== undefined).map((q) => [q.quotaCode, q])).values()];
}

/** "could not read (AccessDenied: needs lambda:GetAccountSettings)". */
export function couldNotRead(error: ReadError): string {
  if (error.kind === 'access-denied')
    return `could not read (AccessDenied${error.action ? `: needs ${error.action}` : `: ${error.message}`})`;
  return `could not read (${error.name}: ${error.message})`;
}

const quotaText = (q: QuotaRef) => `${q.serviceCode} ${q.quotaCode} "${q.name}"`;
const raiseFix = (q: QuotaRef, to: number) => `raise Service Quotas ${quotaText(q)} to ≥ ${fmt(to)}`;

/** The account's Service Quotas value, as "Service Quotas: applied 10, AWS default 1,000". */
function quotaNote(facts: AccountFacts, q: QuotaRef): string {
  const reading = facts.quotas[q.quotaCode];
  if (!reading?.ok) return '';
  const { applied, defaultValue } = reading.value;
  if (applied === undefined && defaultValue === undefined) return '';
  if (applied === undefined) return ` (Service Quotas: AWS default ${fmt(defaultValue!)})`;
  if (defaultValue === undefined || applied === defaultValue)
    return ` (Service Quotas: ${fmt(applied)}${applied === defaultValue ? ', the AWS default' : ''})`;
  return ` (Service Quotas: applied ${fmt(applied)}, ${applied > defaultValue ? 'raised from' : 'below'} the AWS default ${fmt(defaultValue)})`;
}

function lambdaLines(input: DoctorInput): CheckLine[] {
  const { sizing: s, facts } = input;
  const q = QUOTAS.lambdaConcurrency;
  const reserved = s.reservesConcurrency ? s.apiReservedConcurrency + s.lifecycleReservedConcurrency : 0;
  const minUnreserved = AWS_LIMITS.lambdaMinUnreservedConcurrency;
  const service = 'Lambda';
  const lines: CheckLine[] = [];

  // Reservations: each must leave the account ≥ 100 unreserved, or CloudFormation's create fails.
  const reservation: CheckLine = {
    status: 'OK',
    service,
    check: 'reserved concurrency',
    needs:
      reserved === 0
        ? 'no reservation'
        : `${fmt(reserved)} reserved (API ${fmt(s.apiReservedConcurrency)} + lifecycle ${fmt(s.lifecycleReservedConcurrency)}), leaving ≥ ${minUnreserved} unreserved`,
    has: '',
  };
  if (!facts.lambda.ok) {
    reservation.has = couldNotRead(facts.lambda.error);
    if (reserved > 0) reservation.status = 'WARN';
  } else {
    const { concurrentExecutions: total, unreservedConcurrentExecutions: unreserved } = facts.lambda.value;
    // A redeploy hands the stack's own reservations back before it takes the new ones.
    const own = facts.stack.ok
      ? (facts.stack.value?.functions ?? []).reduce((sum, f) => sum + (f.reservedConcurrency ?? 0), 0)
      : 0;
    const available = unreserved + own - minUnreserved;
    reservation.has = `${fmt(unreserved)} unreserved of ${fmt(total)}${own > 0 ? ` (+${fmt(own)} the stack reserves now)` : ''}`;
    if (reserved > 0 && reserved > available) {
      const to = total + (reserved - available);
      reservation.status = 'FAIL';
      reservation.raise = { ...q, to };
      reservation.fix = raiseFix(q, to);
    }
  }
  lines.push(reservation);

  // The concurrency the audience uses at its peak (with the sizing's headroom), reserved or not.
  const needed = s.accountConcurrencyNeeded;
  const total: CheckLine = {
    status: 'OK',
    service,
    check: 'concurrent executions',
    needs:
      reserved > 0
        ? `${fmt(needed)} (the reservations + ${minUnreserved} unreserved)`
        : `${fmt(needed)} at the peak (API ${fmt(s.apiConcurrency)} + lifecycle ${fmt(s.lifecycleConcurrency)}, unreserved)`,
    has: '',
  };
  if (!facts.lambda.ok) {
    total.status = 'WARN';
    total.has = couldNotRead(facts.lambda.error);
  } else {
    const have = facts.lambda.value.concurrentExecutions;
    total.has = `${fmt(have)}${quotaNote(facts, q)}`;
    if (have < needed) {
      // Short with reservations: the create fails. Short without: the deploy works and the storm's
      // peak is throttled (Lambda 429s, the API's 5xx), so the show works for a smaller audience.
      total.status = reserved > 0 ? 'FAIL' : 'WARN';
      total.raise = { ...q, to: needed };
      total.fix =
        raiseFix(q, needed) +
        (reserved > 0 ? '' : `: until then the peak is throttled above ${fmt(have)} at once`);
    }
  }
  lines.push(total);
  return lines;
}

function apiGatewayLines(input: DoctorInput): CheckLine[] {
  const { sizing: s, facts } = input;
  const service = 'API Gateway';
  const setsRole = input.stackSetsApiGatewayRole ?? SETS_API_GATEWAY_CLOUDWATCH_ROLE_BY_DEFAULT;
  const role: CheckLine = {
    status: 'OK',
    service,
    check: 'CloudWatch Logs role',
    needs: 'an account role for the stage access logs',
    has: '',
  };
  const throttle: CheckLine = {
    status: 'OK',
    service,
    check: 'account throttle',
    needs: `${fmt(s.stageRateLimit)} req/s, burst ${fmt(s.stageBurstLimit)} (the stage throttle)`,
    has: '',
  };
  if (!facts.apiGateway.ok) {
    role.status = throttle.status = 'WARN';
    role.has = throttle.has = couldNotRead(facts.apiGateway.error);
    return [role, throttle];
  }
  const { cloudWatchRoleArn, rateLimit, burstLimit } = facts.apiGateway.value;
  if (cloudWatchRoleArn && cloudWatchRoleArn.includes(`:role/${input.stackName}-`)) {
    role.has = `set by stack ${input.stackName}: ${cloudWatchRoleArn}`;
  } else if (cloudWatchRoleArn) {
    role.has = `set: ${cloudWatchRoleArn}`;
    if (setsRole) {
      role.status = 'INFO';
      role.fix =
        "the stack replaces the account's role with its own; deploy with -c apiGatewayCloudWatchRole=false to keep this one";
    }
  } else if (setsRole) {
    role.status = 'INFO';
    role.has = 'none: the stack sets one (AWS::ApiGateway::Account)';
    role.fix =
      'deploying with -c apiGatewayCloudWatchRole=false would fail: keep the default, or set a role for the account first';
  } else {
    role.status = 'FAIL';
    role.has =
      'none: the stage refuses access logging ("CloudWatch Logs role ARN must be set in account settings")';
    role.fix =
      'deploy with -c apiGatewayCloudWatchRole=true, or set one: aws apigateway update-account --patch-operations op=replace,path=/cloudwatchRoleArn,value=<role ARN trusted by apigateway.amazonaws.com>';
  }
  if (rateLimit === undefined) {
    throttle.status = 'WARN';
    throttle.has = 'not in the account settings';
  } else {
    throttle.has = `${fmt(rateLimit)} req/s, burst ${fmt(burstLimit ?? 0)} for every API in ${facts.region}${quotaNote(facts, QUOTAS.apiGatewayThrottle)}`;
    if (rateLimit < s.stageRateLimit) {
      throttle.status = 'FAIL';
      throttle.raise = { ...QUOTAS.apiGatewayThrottle, to: s.stageRateLimit };
      throttle.fix = `${raiseFix(QUOTAS.apiGatewayThrottle, s.stageRateLimit)} (the account caps the stage below its plan)`;
    } else if (burstLimit !== undefined && burstLimit < s.stageBurstLimit) {
      throttle.status = 'WARN';
      throttle.fix = `the burst is short of the stage's ${fmt(s.stageBurstLimit)}: AWS sets it from the rate quota (ask AWS Support)`;
    }
  }
  return [role, throttle];
}

function dynamoDbLines(input: DoctorInput): CheckLine[] {
  const { sizing: s, facts } = input;
  const service = 'DynamoDB';
  const warmWrite = Math.max(
    s.tableWarmThroughput?.writeUnitsPerSecond ?? 0,
    s.indexWarmThroughput?.writeUnitsPerSecond ?? 0,
  );
  const warmRead = s.tableWarmThroughput?.readUnitsPerSecond ?? 0;
  const writes = Math.max(warmWrite, s.tableWriteUnitsPerSecond, s.indexWriteUnitsPerSecond);
  const reads = Math.max(warmRead, s.tableReadUnitsPerSecond);
  const line = (
    kind: 'write' | 'read',
    needed: number,
    warm: number,
    have: number | undefined,
    q: QuotaRef,
  ): CheckLine => {
    const out: CheckLine = {
      status: 'OK',
      service,
      check: `table ${kind} throughput`,
      needs: `${fmt(needed)} ${kind} units/s per table${warm > 0 ? ` (warm throughput ${fmt(warm)})` : ''}`,
      has: '',
    };
    if (!facts.dynamoDb.ok) {
      out.status = 'WARN';
      out.has = couldNotRead(facts.dynamoDb.error);
    } else if (have === undefined) {
      out.status = 'WARN';
      out.has = 'not in DescribeLimits';
    } else {
      out.has = `${fmt(have)} per table${quotaNote(facts, q)}`;
      if (have < needed) {
        out.status = 'FAIL';
        out.raise = { ...q, to: needed };
        out.fix = raiseFix(q, needed);
      }
    }
    return out;
  };
  const limits = facts.dynamoDb.ok ? facts.dynamoDb.value : {};
  return [
    line('write', writes, warmWrite, limits.tableMaxWriteCapacityUnits, QUOTAS.dynamoDbTableWrites),
    line('read', reads, warmRead, limits.tableMaxReadCapacityUnits, QUOTAS.dynamoDbTableReads),
  ];
}

function ivsLines(input: DoctorInput): CheckLine[] {
  const { facts } = input;
  const service = 'IVS';
  const deployed = facts.stack.ok && facts.stack.value !== undefined;
  const newChannels = deployed ? 0 : 1;
  const channels: CheckLine = {
    status: 'OK',
    service,
    check: 'channels',
    needs: deployed ? 'its channel (deployed already)' : '1 more channel (none with -c channelArn)',
    has: '',
  };
  const quota = facts.ivsQuotas.ok
    ? facts.ivsQuotas.value.find((q) => /^channels\b/i.test(q.name))
    : undefined;
  const inUse = facts.ivsChannels.ok ? facts.ivsChannels.value : undefined;
  if (!facts.ivsChannels.ok) {
    channels.status = 'WARN';
    channels.has = couldNotRead(facts.ivsChannels.error);
    if (facts.ivsChannels.error.kind === 'unreachable')
      channels.fix = `is IVS offered in ${facts.region}? (AWS General Reference: Amazon IVS endpoints)`;
  } else if (quota) {
    channels.has = `${fmt(inUse!)} in use of ${fmt(quota.value)} (Service Quotas ivs ${quota.code} "${quota.name}")`;
    if (inUse! + newChannels > quota.value) {
      channels.status = 'FAIL';
      channels.raise = {
        serviceCode: 'ivs',
        quotaCode: quota.code,
        name: quota.name,
        to: inUse! + newChannels,
      };
      channels.fix = `delete an unused channel, or ${raiseFix(channels.raise, inUse! + newChannels)}`;
    }
  } else {
    channels.status = 'INFO';
    channels.has = `${fmt(inUse!)} in use; no applied quota in Service Quotas${
      facts.ivsQuotas.ok ? '' : ` (${couldNotRead(facts.ivsQuotas.error)})`
    }: AWS's default applies (IVS User Guide: Service Quotas)`;
  }

  const shows = ASSUMPTIONS.concurrentShows;
  const putMetadataQuota = facts.ivsQuotas.ok
    ? facts.ivsQuotas.value.find((q) => /putmetadata/i.test(q.name))
    : undefined;
  const perAccount = putMetadataQuota?.value ?? IVS_PUT_METADATA.perAccountPerSecond;
  const neededPerAccount = shows * IVS_PUT_METADATA.showPeakPerSecond;
  const putMetadata: CheckLine = {
    status: 'OK',
    service,
    check: 'PutMetadata rate',
    needs: `${IVS_PUT_METADATA.showPeakPerSecond}/s per channel, ${neededPerAccount}/s for ${shows} shows at once`,
    has: putMetadataQuota
      ? `${fmt(perAccount)}/s per account (Service Quotas ivs ${putMetadataQuota.code})`
      : `${IVS_PUT_METADATA.perChannelPerSecond}/s per channel, ${perAccount}/s per account (AWS's fixed API rate, not a Service Quota)`,
  };
  if (perAccount < neededPerAccount) putMetadata.status = 'WARN';
  return [channels, putMetadata];
}

function bootstrapLine(input: DoctorInput): CheckLine {
  const { facts } = input;
  const target = `aws://${facts.account ?? 'ACCOUNT-ID'}/${facts.region}`;
  const command = `npx cdk bootstrap ${target}`;
  const line: CheckLine = {
    status: 'OK',
    service: 'CDK',
    check: 'bootstrap',
    needs: `version ≥ ${CDK_BOOTSTRAP.minVersion} (${CDK_BOOTSTRAP.parameter})`,
    has: '',
  };
  if (!facts.bootstrap.ok) {
    line.status = 'WARN';
    line.has = couldNotRead(facts.bootstrap.error);
    return line;
  }
  const { version, source } = facts.bootstrap.value;
  const where = source === 'ssm' ? '' : ` (stack ${CDK_BOOTSTRAP.toolkitStack})`;
  if (version === undefined) {
    line.status = 'FAIL';
    line.has = `not bootstrapped in ${facts.region}${where}`;
    line.fix = command;
  } else if (version < CDK_BOOTSTRAP.minVersion) {
    line.status = 'FAIL';
    line.has = `version ${version}${where}`;
    line.fix = `${command} (updates it)`;
  } else {
    line.has = `version ${version}${where}`;
    if (version < CDK_BOOTSTRAP.latestVersion) {
      line.status = 'WARN';
      line.fix = `${command} updates it to ${CDK_BOOTSTRAP.latestVersion}, the installed CDK's version`;
    }
  }
  if (line.fix && !facts.account) line.fix += ' (ACCOUNT-ID: aws sts get-caller-identity)';
  return line;
}

function cloudFrontLine(input: DoctorInput): CheckLine {
  const { facts } = input;
  const line: CheckLine = {
    status: 'INFO',
    service: 'CloudFront',
    check: 'distributions',
    needs: 'creates 1 distribution',
    has: '',
  };
  if (!facts.cloudFront.ok) {
    line.has = couldNotRead(facts.cloudFront.error);
  } else if (facts.cloudFront.value.distributions > 0) {
    line.status = 'OK';
    line.has = 'the account has distributions already';
  } else {
    line.has =
      'none yet: whether AWS lets this account create one is known only at deploy (new accounts may first need AWS to verify them)';
  }
  return line;
}

function stackLine(input: DoctorInput): CheckLine {
  const { facts, stackName, sizing } = input;
  const line: CheckLine = {
    status: 'INFO',
    service: 'CloudFormation',
    check: `stack ${stackName}`,
    needs: `sized for ${fmt(sizing.audience)} viewers`,
    has: '',
  };
  if (!facts.stack.ok) {
    line.has = couldNotRead(facts.stack.error);
  } else if (!facts.stack.value) {
    line.has = 'not deployed (a first deploy)';
  } else {
    const { status, audience, functions } = facts.stack.value;
    const reserved = functions.reduce((sum, f) => sum + (f.reservedConcurrency ?? 0), 0);
    line.has =
      `deployed (${status})` +
      (audience !== undefined ? `, sized for ${fmt(audience)}` : '') +
      (reserved > 0 ? `; its functions reserve ${fmt(reserved)}` : '');
    // A stack stuck in a failed state refuses updates until it is rolled back or deleted. (CDK deletes
    // a ROLLBACK_COMPLETE stack, a failed first create, by itself before creating it again.)
    if (status.endsWith('_FAILED')) {
      line.status = 'FAIL';
      line.fix =
        status === 'UPDATE_ROLLBACK_FAILED'
          ? `aws cloudformation continue-update-rollback --stack-name ${stackName} --region ${facts.region}`
          : `aws cloudformation delete-stack --stack-name ${stackName} --region ${facts.region} (see why in its events first)`;
    }
  }
  return line;
}

/** Every check, in the order a deploy meets them. */
export function evaluate(input: DoctorInput): DoctorReport {
  const lines = [
    bootstrapLine(input),
    stackLine(input),
    ...lambdaLines(input),
    ...apiGatewayLines(input),
    ...dynamoDbLines(input),
    ...ivsLines(input),
    cloudFrontLine(input),
  ];
  return {
    region: input.facts.region,
    ...(input.facts.account ? { account: input.facts.account } : {}),
    stackName: input.stackName,
    audience: input.sizing.audience,
    defaultAudience: input.defaultAudience,
    lines,
    ok: !lines.some((l) => l.status === 'FAIL'),
  };
}

/** The account id in an ARN (arn:aws:service:region:ACCOUNT:…), if it has one. */
export function accountOf(arn: string | undefined): string | undefined {
  const account = arn?.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}
