/** Why a call could not be completed by its upstream, in words the agent and the reviewer can act on. */
export type UpstreamFailure = 'unavailable' | 'timeout';

export class UpstreamError extends Error {
  constructor(
    readonly server: string,
    readonly failure: UpstreamFailure,
    detail: string,
  ) {
    super(`upstream server '${server}' ${detail}`);
    this.name = 'UpstreamError';
  }
}
