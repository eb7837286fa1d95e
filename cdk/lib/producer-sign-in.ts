// Producer sign-in: the producers' Cognito user pool with the control room's app client and hosted
// sign-in domain, and the producer API (/producer/… on the REST API, behind a Cognito authorizer)
// with its Lambda. Its resources are the stack's own (see showrunner-stack.ts).
import { Aws, Duration, Fn, RemovalPolicy, Validations, type Stack } from 'aws-cdk-lib';
import {
  AuthorizationType,
  CognitoUserPoolsAuthorizer,
  LambdaIntegration,
  type RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { AccountRecovery, Mfa, OAuthScope, UserPool, type UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { LAMBDA_ENV } from '../../contract/lambda-env.ts';
import { MAX_RUN_SECONDS } from '../../core/timeline.ts';
import type { ShowData } from './data.ts';
import { ConfigurationError } from './errors.ts';
import { acknowledgeTracingGrants, nodeFunction } from './lambda.ts';

/**
 * A Cognito domain prefix: lowercase letters, digits and hyphens, 1 to 63, no hyphen at either end
 * (CreateUserPoolDomain's pattern), and none of the words Cognito reserves ("Domain cannot contain
 * reserved word: aws"; amazon and cognito likewise).
 */
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN_PREFIX_RESERVED_WORDS = ['aws', 'amazon', 'cognito'] as const;

/** Fails synth on a control room domain prefix Cognito would refuse at deploy time. */
export function checkControlDomainPrefix(prefix: string): string {
  const reserved = DOMAIN_PREFIX_RESERVED_WORDS.find((word) => prefix.includes(word));
  if (!DOMAIN_PREFIX.test(prefix) || reserved) {
    throw new ConfigurationError(
      `-c controlDomainPrefix=${prefix}: expected lowercase letters, digits and hyphens (1–63, no hyphen at either end)` +
        (reserved ? `, without the word "${reserved}" (Cognito reserves aws, amazon and cognito)` : ''),
    );
  }
  return prefix;
}

/**
 * The producers' sign-in session (Cognito app client ControlRoom). The control room signs in with the
 * authorization code flow and PKCE, keeps the refresh token and renews its ID token silently before
 * it expires; signing out revokes the refresh token (/oauth2/revoke).
 */
export const CONTROL_ROOM_TOKENS = {
  /**
   * ID and access tokens: 1 hour. API Gateway's Cognito authorizer checks only a token's signature
   * and expiry, so a revoked session's ID token still works until it expires: short tokens bound
   * that, and the silent renewal makes the hour invisible to the producer.
   */
  idTokenHours: 1,
  accessTokenHours: 1,
  /**
   * Refresh token: as long as the longest run a show allows (core/timeline.ts MAX_RUN_SECONDS, a
   * year) and a day, so no producer is signed out in the middle of a run. The trade-off: a stolen
   * refresh token works that long unless revoked. Sign-out revokes it, producers are few, added by an
   * administrator and sign in with MFA, and `aws cognito-idp admin-user-global-sign-out` ends every
   * session of one producer.
   */
  refreshTokenDays: Math.ceil(MAX_RUN_SECONDS / 86_400) + 1,
} as const;

export interface ProducerSignInProps {
  /** The site: the control room is its /control/ page, and the only CORS origin. */
  readonly siteUrl: string;
  /** The sign-in domain prefix; default showrunner-<the stack id's UUID>. Checked by checkControlDomainPrefix. */
  readonly controlDomainPrefix?: string | undefined;
  /** The REST API the producer routes are mounted on (/producer/…). */
  readonly api: RestApi;
  /** The state machine the producer API starts, cues and stops. */
  readonly stateMachine: StateMachine;
  readonly data: ShowData;
  /** The stack's channel: a run's default. */
  readonly channelArn: string;
  readonly tracing: boolean;
}

/** The producers' user pool, the control room's sign-in, and the producer API behind it. */
export class ProducerSignIn {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  /** https://<site>/control/: the control room, and its sign-in's callback and logout URL. */
  readonly controlUrl: string;
  /** https://<prefix>.auth.<region>.amazoncognito.com: the hosted sign-in. */
  readonly signInUrl: string;
  readonly producerFunction: NodejsFunction;

  constructor(stack: Stack, props: ProducerSignInProps) {
    // ---- The producer's control room: Cognito sign-in, the producer API ---------------------------
    // No self sign-up: an administrator adds producers (README). The page signs in through the user
    // pool's classic hosted UI (the domain has no managed login version; authorization code + PKCE)
    // and sends the ID token; API Gateway's Cognito authorizer checks it before the producer Lambda runs.
    this.userPool = new UserPool(stack, 'Producers', {
      userPoolName: `${Aws.STACK_NAME}-producers`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireSymbols: true,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.controlUrl = `${props.siteUrl}/control/`;
    this.client = this.userPool.addClient('ControlRoom', {
      generateSecret: false,
      // No sign-in through the user pools API: without ExplicitAuthFlows Cognito would allow SRP and
      // custom auth. An explicit choice of none leaves ALLOW_REFRESH_TOKEN_AUTH, which CDK always
      // adds. (Refreshing at the token endpoint after the code flow needs no flow of its own.)
      authFlows: { userSrp: false },
      oAuth: {
        // The code grant returns a refresh token with the ID and access tokens: Cognito has no
        // offline_access scope to ask for one.
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL],
        callbackUrls: [this.controlUrl],
        logoutUrls: [this.controlUrl],
      },
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(CONTROL_ROOM_TOKENS.idTokenHours),
      accessTokenValidity: Duration.hours(CONTROL_ROOM_TOKENS.accessTokenHours),
      refreshTokenValidity: Duration.days(CONTROL_ROOM_TOKENS.refreshTokenDays),
      preventUserExistenceErrors: true,
    });
    // Prefixes are unique per region across every account: the default names the stack by its id
    // (a UUID: lowercase hex and hyphens, none of Cognito's reserved words), so two stacks of one
    // account and region do not collide. 47 characters of the 63 allowed.
    const domain = this.userPool.addDomain('ControlRoomDomain', {
      cognitoDomain: {
        domainPrefix: props.controlDomainPrefix ?? `showrunner-${Fn.select(2, Fn.split('/', Aws.STACK_ID))}`,
      },
    });
    this.signInUrl = `https://${domain.domainName}.auth.${Aws.REGION}.amazoncognito.com`;
    this.producerFunction = this.#producerApi(stack, props);
    this.#acknowledgeNagFindings();
  }

  /** The producer Lambda, its grants on the state machine, and /producer/{proxy+} behind the Cognito authorizer. */
  #producerApi(stack: Stack, props: ProducerSignInProps): NodejsFunction {
    const { stateMachine } = props;
    const producerFunction = nodeFunction(stack, 'ProducerFunction', {
      entry: 'lambdas/handlers/producer.ts',
      description: 'showrunner producer API (control room): start, cue, stop, status, history, results',
      memorySize: 512,
      timeout: Duration.seconds(29),
      environment: {
        [LAMBDA_ENV.STATE_MACHINE_ARN]: stateMachine.stateMachineArn,
        [LAMBDA_ENV.TABLE_NAME]: props.data.table.tableName,
        [LAMBDA_ENV.CHANNEL_ARN]: props.channelArn,
        [LAMBDA_ENV.CORS_ORIGINS]: props.siteUrl,
      },
      data: props.data,
      // What the operations read and write: poll items and shard counters (results), the '#cue'
      // item a manual question waits on (cue claims it), a run's score shards (Query, the
      // leaderboard) and the viewers' name items (BatchGetItem; UpdateItem to hide one).
      tableActions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      // It queries score partitions of the table, never the requestor index.
      queriesIndex: false,
      roleDescription: 'logs, the poll table, and the show state machine and its executions',
      tracing: props.tracing,
    });
    // Least privilege through CDK's grants: StartExecution and ListExecutions on this state machine,
    // Describe/Stop/GetExecutionHistory on its executions, SendTaskSuccess/Failure for the cue.
    stateMachine.grantStartExecution(producerFunction);
    stateMachine.grant(producerFunction, 'states:ListExecutions');
    stateMachine.grantExecution(
      producerFunction,
      'states:DescribeExecution',
      'states:GetExecutionHistory',
      'states:StopExecution',
    );
    stateMachine.grantTaskResponse(producerFunction);
    acknowledgeTracingGrants(producerFunction, props.tracing);
    const producerAuthorizer = new CognitoUserPoolsAuthorizer(stack, 'ProducerAuthorizer', {
      cognitoUserPools: [this.userPool],
    });
    props.api.root
      .addResource('producer')
      .addProxy({
        anyMethod: false,
        defaultIntegration: new LambdaIntegration(producerFunction),
      })
      .addMethod('ANY', undefined, {
        authorizer: producerAuthorizer,
        authorizationType: AuthorizationType.COGNITO,
      });
    return producerFunction;
  }

  #acknowledgeNagFindings(): void {
    // The producer API acts on this state machine's executions, whose names (run ids) are chosen at
    // start time: the ARN pattern execution:<state machine name>:* is as narrow as IAM allows.
    Validations.of(this.producerFunction.role!.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"ShowStateMachine7612D96E"}]}]}:*]',
      reason:
        "DescribeExecution, GetExecutionHistory and StopExecution on the executions of the show state machine only: each run's name is chosen when it starts, so the ARN ends in a wildcard.",
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        'Threat protection needs the Plus feature plan, billed per user; the pool holds a handful of producers added by an administrator (no self sign-up), each with a strong password and TOTP MFA required.',
    });
  }
}
