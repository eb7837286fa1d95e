/** A deployment input is wrong (context value, missing build): synth stops with this message. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}
