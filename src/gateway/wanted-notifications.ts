import type { Client, ServerCapabilities, SubscriptionFilter } from '@modelcontextprotocol/client';

/**
 * The change notifications that agents asked to hear of outside any call (list changes, updates of
 * resource URIs): only ever more of them, so that whatever is (re)connected later is asked for all.
 */
export class WantedNotifications {
  readonly #lists = new Set<'toolsListChanged' | 'promptsListChanged' | 'resourcesListChanged'>();
  readonly #uris = new Set<string>();

  /** Adds `filter`; returns the part of it that was not wanted yet, undefined when none is new. */
  add(filter: SubscriptionFilter): SubscriptionFilter | undefined {
    const added: SubscriptionFilter = {};
    for (const list of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const) {
      if (filter[list] !== true || this.#lists.has(list)) continue;
      this.#lists.add(list);
      added[list] = true;
    }
    const uris = (filter.resourceSubscriptions ?? []).filter((uri) => !this.#uris.has(uri));
    for (const uri of uris) this.#uris.add(uri);
    if (uris.length > 0) added.resourceSubscriptions = [...new Set(uris)];
    return isEmpty(added) ? undefined : added;
  }

  /** Everything wanted so far, undefined when nothing is. */
  get all(): SubscriptionFilter | undefined {
    const all: SubscriptionFilter = Object.fromEntries([...this.#lists].map((list) => [list, true]));
    if (this.#uris.size > 0) all.resourceSubscriptions = [...this.#uris];
    return isEmpty(all) ? undefined : all;
  }
}

/**
 * Asks a connected upstream for `filter` in its own revision. A 2026-07-28 server sends change
 * notifications only on a subscriptions/listen stream; a 2025-era server sends list changes unasked
 * and resource updates after resources/subscribe. Only what the server declares it offers is asked.
 */
export async function askForNotifications(client: Client, filter: SubscriptionFilter, timeoutMs: number): Promise<void> {
  const offered = offeredPart(filter, client.getServerCapabilities() ?? {});
  if (!offered) return;
  if (client.getProtocolEra() === 'modern') {
    await client.listen(offered, { timeout: timeoutMs });
    return;
  }
  for (const uri of offered.resourceSubscriptions ?? []) await client.subscribeResource({ uri }, { timeout: timeoutMs });
}

function offeredPart(filter: SubscriptionFilter, capabilities: ServerCapabilities): SubscriptionFilter | undefined {
  const offered: SubscriptionFilter = {
    ...(filter.toolsListChanged && capabilities.tools?.listChanged ? { toolsListChanged: true } : {}),
    ...(filter.promptsListChanged && capabilities.prompts?.listChanged ? { promptsListChanged: true } : {}),
    ...(filter.resourcesListChanged && capabilities.resources?.listChanged ? { resourcesListChanged: true } : {}),
    ...(filter.resourceSubscriptions?.length && capabilities.resources?.subscribe ? { resourceSubscriptions: filter.resourceSubscriptions } : {}),
  };
  return isEmpty(offered) ? undefined : offered;
}

function isEmpty(filter: SubscriptionFilter): boolean {
  return Object.keys(filter).length === 0;
}
