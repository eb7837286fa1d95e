// The deployed stack's CloudFormation output keys: the CDK stack (cdk/lib/showrunner-stack.ts) writes
// them, the CLI's `--target aws` (ops/target.ts) and the tests read them from DescribeStacks. A key
// renamed on one side only would fail at run time, so both name it from here.

export const STACK_OUTPUTS = {
  /** The viewer site (CloudFront): https://<distribution domain>. */
  SiteUrl: 'SiteUrl',
  /** The viewer REST API base URL, API Gateway's stage URL (no trailing slash). */
  ApiUrl: 'ApiUrl',
  /** GET /poll-get through CloudFront, cached 1 s: the site reads it from config.json. */
  CachedApiUrl: 'CachedApiUrl',
  /** The IVS playback URL (HLS). */
  PlaybackUrl: 'PlaybackUrl',
  /** The IVS ingest endpoint (host name). */
  IngestEndpoint: 'IngestEndpoint',
  /** The RTMPS server URL for OBS (Stream → Custom). */
  IngestServer: 'IngestServer',
  /** The stream key's ARN; only when the stack created the channel (no `-c channelArn`). */
  StreamKeyArn: 'StreamKeyArn',
  /** The show state machine. */
  StateMachineArn: 'StateMachineArn',
  /** The producer's control room page (https://<site>/control/). */
  ControlRoomUrl: 'ControlRoomUrl',
  /** The producers' Cognito user pool id. */
  ProducerPoolId: 'ProducerPoolId',
  /** The IVS channel the cues are sent to. */
  ChannelArn: 'ChannelArn',
  /** The DynamoDB table's name. */
  TableName: 'TableName',
  /** The viewers per show the stack is sized for (`-c audience`). */
  Audience: 'Audience',
} as const;

export type StackOutputKey = (typeof STACK_OUTPUTS)[keyof typeof STACK_OUTPUTS];
