import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';

/** A tool or prompt as its upstream names it. */
export interface UpstreamName {
  server: string;
  name: string;
}

/**
 * Agents see `<server><separator><name>` so that two upstreams may both offer `search`; the entry a
 * reviewer reads keeps both forms. Server names never contain the separator (the config refuses it),
 * so the first separator splits unambiguously. A single wrapped server keeps its own names, so that
 * `agenttrail wrap` is a drop-in replacement for the server command.
 */
export class QualifiedNames {
  constructor(
    private readonly separator: string,
    private readonly servers: readonly string[],
    private readonly prefixed = true,
  ) {
    if (!prefixed && servers.length !== 1) throw new Error('names can stay unprefixed only with exactly one upstream server');
  }

  qualify(server: string, name: string): string {
    return this.prefixed ? `${server}${this.separator}${name}` : name;
  }

  /** Splits an agent-facing name; `what` ("tool", "prompt") only shapes the error message. */
  resolve(qualified: string, what: string): UpstreamName {
    if (!this.prefixed) return { server: this.servers[0]!, name: qualified };
    const at = qualified.indexOf(this.separator);
    if (at <= 0) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `unknown ${what} '${qualified}': names through this gateway have the form <server>${this.separator}<${what}> (servers: ${this.servers.join(', ')})`,
      );
    }
    const server = qualified.slice(0, at);
    if (!this.servers.includes(server)) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `unknown ${what} '${qualified}': there is no upstream server '${server}' (servers: ${this.servers.join(', ')})`,
      );
    }
    return { server, name: qualified.slice(at + this.separator.length) };
  }
}
