/** A setting that cannot start the gateway: the message names it; `reason` is a stable detail. */
export class ConfigError extends Error {
  readonly code = 'INVALID_REQUEST';
  override readonly name = 'ConfigError';

  constructor(message: string, readonly reason = 'bad_config') {
    super(message);
  }
}
