// The stack's own inputs fail with the same error as the sizing rules (core/sizing.ts) they feed.
export { ConfigurationError } from '../../core/configuration-error.ts';
