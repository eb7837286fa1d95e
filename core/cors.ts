// CORS for the viewer API, one value for both places that answer a preflight: API Gateway in the
// cloud (cdk/lib/showrunner-stack.ts) and the API Lambda's httpCors locally (lambdas/api.ts).

/**
 * How long a browser may reuse a preflight answer. Browsers cap it (Chromium at 2 h), and every
 * reuse spares API Gateway a request when a whole audience votes at once.
 */
export const CORS_MAX_AGE_SECONDS = 3600;
