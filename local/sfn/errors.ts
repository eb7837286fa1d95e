// Errors of the local Step Functions. ApiError subclasses are what the JSON 1.0 protocol returns
// (`__type` is the error code @aws-sdk/client-sfn turns into its exception class); TaskFailure is
// what a Task state fails with, named like the ASL error (`Ivs.ThrottlingException`) so Retry and
// Catch match it.

export class SfnApiError extends Error {
  override readonly name: string;
  readonly statusCode: number;
  constructor(code: string, message: string, statusCode = 400) {
    super(message);
    this.name = code;
    this.statusCode = statusCode;
  }
}

export class TaskFailure extends Error {
  override readonly name: string;
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** The Step Functions error of an AWS SDK integration: `Ivs.ChannelNotBroadcastingException`. */
export function sdkIntegrationErrorName(serviceTitle: string, exceptionName: string): string {
  // Step Functions names errors <Service>.<Name>Exception even when the SDK shape lacks the suffix
  // (IVS's `ChannelNotBroadcasting` surfaces as `Ivs.ChannelNotBroadcastingException`).
  const name = exceptionName.endsWith('Exception') ? exceptionName : `${exceptionName}Exception`;
  return `${serviceTitle}.${name}`;
}

/** The Cause a Lambda function error carries in Step Functions: the function's error as JSON. */
export function lambdaFunctionError(error: unknown): TaskFailure {
  const e = error instanceof Error ? error : new Error(String(error));
  const errorType = e.name || 'Error';
  const cause = JSON.stringify({
    errorType,
    errorMessage: e.message,
    trace: (e.stack ?? '').split('\n').slice(0, 10),
  });
  return new TaskFailure(errorType, cause);
}
