// Video: the IVS channel the cues travel in, created by the stack or an existing one read at deploy
// time, and the list of channels cues may go to. Its resources are the stack's own (see
// showrunner-stack.ts).
import { Aws, Validations, type Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnChannel, CfnStreamKey } from 'aws-cdk-lib/aws-ivs';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { ConfigurationError } from './errors.ts';

const CHANNEL_ARN = /^arn:aws[a-z-]*:ivs:[a-z0-9-]+:\d{12}:channel\/[A-Za-z0-9]+$/;

/** IVS channel types; the stack creates STANDARD unless told. */
export type ChannelType = 'STANDARD' | 'BASIC' | 'ADVANCED_SD' | 'ADVANCED_HD';

/** Fails synth on a channel ARN IVS would refuse at deploy time. */
export function checkChannelArn(arn: string): string {
  if (!CHANNEL_ARN.test(arn)) {
    throw new ConfigurationError(
      `"${arn}" is not an IVS channel ARN (arn:aws:ivs:<region>:<account>:channel/<id>).`,
    );
  }
  return arn;
}

export interface ShowChannelProps {
  /** Use this existing IVS channel instead of creating one. Same region as the stack. */
  readonly channelArn?: string | undefined;
  /** Further channels the state machine and the lifecycle Lambda may send cues to. */
  readonly extraChannelArns?: readonly string[] | undefined;
  /** IVS channel type for a created channel. Default STANDARD. */
  readonly channelType?: ChannelType | undefined;
}

export class ShowChannel {
  readonly channelArn: string;
  /** The HLS playback URL. */
  readonly playbackUrl: string;
  /** The ingest endpoint's host name. */
  readonly ingestEndpoint: string;
  /** The stream key's ARN, when the stack created the channel. */
  readonly streamKeyArn: string | undefined;
  /** The IVS channels cues may go to: the stack's channel and extraChannelArns (PutMetadata is granted on these only). */
  readonly cueChannelArns: readonly string[];

  constructor(stack: Stack, props: ShowChannelProps) {
    if (props.channelArn) {
      this.channelArn = props.channelArn;
      // No IVS context provider exists; a custom resource reads the existing channel at deploy time.
      const existing = new AwsCustomResource(stack, 'ExistingChannel', {
        onUpdate: {
          service: 'ivs',
          action: 'GetChannel',
          parameters: { arn: props.channelArn },
          physicalResourceId: PhysicalResourceId.of(props.channelArn),
          outputPaths: ['channel.playbackUrl', 'channel.ingestEndpoint'],
        },
        policy: AwsCustomResourcePolicy.fromStatements([
          new PolicyStatement({ actions: ['ivs:GetChannel'], resources: [props.channelArn] }),
        ]),
        installLatestAwsSdk: false,
      });
      this.playbackUrl = existing.getResponseField('channel.playbackUrl');
      this.ingestEndpoint = existing.getResponseField('channel.ingestEndpoint');
      this.streamKeyArn = undefined;
      const provider = stack.node.tryFindChild(
        `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
      );
      if (provider) acknowledgeCustomResourceProvider(provider);
    } else {
      const channel = new CfnChannel(stack, 'Channel', {
        name: Aws.STACK_NAME,
        latencyMode: 'LOW',
        type: props.channelType ?? 'STANDARD',
        insecureIngest: false,
      });
      const streamKey = new CfnStreamKey(stack, 'StreamKey', { channelArn: channel.attrArn });
      this.channelArn = channel.attrArn;
      this.playbackUrl = channel.attrPlaybackUrl;
      this.ingestEndpoint = channel.attrIngestEndpoint;
      this.streamKeyArn = streamKey.attrArn;
    }
    // The one list of channels cues may go to: the state machine's PutMetadata grant, the lifecycle
    // Lambda's (its tally loop cues itself) and its CUE_CHANNEL_ARNS all come from here.
    this.cueChannelArns = [this.channelArn, ...(props.extraChannelArns ?? [])];
  }

  /** ivs:PutMetadata on the cue channels, and nothing else. */
  putMetadataOnCueChannels(): PolicyStatement {
    return new PolicyStatement({ actions: ['ivs:PutMetadata'], resources: [...this.cueChannelArns] });
  }
}

/**
 * CDK-managed singleton Lambdas behind custom resources (BucketDeployment, AwsCustomResource):
 * their code, runtime and role are CDK's, not ours.
 */
function acknowledgeCustomResourceProvider(provider: Construct): void {
  const ack = (id: string, reason: string) => Validations.of(provider).acknowledge({ id, reason });
  ack(
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'CDK-managed custom resource Lambda: CDK attaches the basic execution role for its own logs.',
  );
  ack('AwsSolutions-L1', 'CDK-managed custom resource Lambda: CDK chooses and updates its runtime.');
}
