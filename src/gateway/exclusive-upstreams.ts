import type { ClientCapabilities, Notification, Result } from '@modelcontextprotocol/server';
import type { UpstreamQuestion } from './input-rounds.js';
import type { UpstreamBridge } from './upstream-connection.js';
import type { UpstreamSet } from './upstream-set.js';

const IDLE_SETS_KEPT_PER_PROFILE = 4;

export interface LentUpstreams {
  upstreams: UpstreamSet;
  release(): void;
}

/**
 * Upstream connections lent to one call at a time. An upstream's request (elicitation, sampling,
 * roots) carries nothing that says which call it belongs to, so a connection that declares those
 * capabilities serves one stateless agent call at a time; sets are kept per capability profile and
 * reused.
 */
export class ExclusiveUpstreams {
  readonly #idle = new Map<string, { upstreams: UpstreamSet; lend: (ask: Asker | undefined) => void }[]>();
  readonly #all = new Set<UpstreamSet>();

  constructor(
    private readonly open: (capabilities: ClientCapabilities, bridge: UpstreamBridge) => UpstreamSet,
    private readonly onNotification: (notification: Notification) => void,
  ) {}

  lend(capabilities: ClientCapabilities, ask: Asker): LentUpstreams {
    const profile = JSON.stringify(capabilities);
    const idle = this.#idle.get(profile) ?? [];
    this.#idle.set(profile, idle);
    const entry = idle.pop() ?? this.create(capabilities);
    entry.lend(ask);
    return {
      upstreams: entry.upstreams,
      release: () => {
        entry.lend(undefined);
        if (idle.length < IDLE_SETS_KEPT_PER_PROFILE) idle.push(entry);
        else {
          this.#all.delete(entry.upstreams);
          void entry.upstreams.close();
        }
      },
    };
  }

  /** Every set, lent or idle. */
  sets(): UpstreamSet[] {
    return [...this.#all];
  }

  async close(): Promise<void> {
    await Promise.all([...this.#all].map((upstreams) => upstreams.close()));
    this.#all.clear();
    this.#idle.clear();
  }

  private create(capabilities: ClientCapabilities) {
    let current: Asker | undefined;
    const upstreams = this.open(capabilities, {
      forwardServerRequest: (server, request) => {
        if (!current) return Promise.reject(new Error(`upstream '${server}' sent ${request.method} outside of any call`));
        return current(server, request);
      },
      forwardNotification: (_server, notification) => this.onNotification(notification),
    });
    this.#all.add(upstreams);
    return { upstreams, lend: (ask: Asker | undefined) => (current = ask) };
  }
}

export type Asker = (server: string, question: UpstreamQuestion) => Promise<Result>;
