// Errors that cross the API edge. Like Middy's http errors they carry `statusCode` and `expose`
// (the message is safe to show), and a stable machine-readable `code` for clients.

export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  readonly expose = true;
  readonly statusCode: number;
  readonly code: string;
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** 400: the request is malformed; the message starts with the field it names (`answer: …`). */
export class BadRequestError extends ApiError {
  override readonly name = 'BadRequestError';
  constructor(message: string, code = 'bad_request') {
    super(400, code, message);
  }
}

export class NotFoundError extends ApiError {
  override readonly name = 'NotFoundError';
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

/** 409: valid request the poll's state refuses (`already_answered`, `poll_closed`). */
export class ConflictError extends ApiError {
  override readonly name = 'ConflictError';
  constructor(code: 'already_answered' | 'poll_closed' | 'poll_exists', message: string) {
    super(409, code, message);
  }
}

export class PayloadTooLargeError extends ApiError {
  override readonly name = 'PayloadTooLargeError';
  constructor(limit: number) {
    super(413, 'payload_too_large', `body: larger than ${limit} bytes`);
  }
}

/** Formats a path like zod's (['polls', 2, 'answers']) the way producers read it: polls[2].answers. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}
