import { ProtocolError, ProtocolErrorCode, UriTemplate, type Notification, type ServerCapabilities, type SubscriptionFilter } from '@modelcontextprotocol/server';
import type { ServerConfig } from '../config/config-schema.js';
import { UpstreamConnection, type UpstreamConnectionOptions } from './upstream-connection.js';
import { upstreamTools } from './upstream-tools.js';

/**
 * The upstream connections that serve one agent session (or one pool of stateless requests), in
 * config order, and which of them owns which resource URI. URIs are not renamed, so that links in
 * tool results stay valid; the owner of a URI is learned from the lists the upstreams return.
 */
export class UpstreamSet {
  readonly servers: readonly string[];
  readonly #connections: Map<string, UpstreamConnection>;
  readonly #resourceOwners = new Map<string, string>();
  readonly #templates: { server: string; template: UriTemplate }[] = [];
  /** Per server, each listed tool's annotations, as the agent's lists (or the gateway's own) returned them. */
  readonly #toolAnnotations = new Map<string, Map<string, unknown>>();
  readonly #toolListings = new Map<string, Promise<void>>();

  constructor(configs: ReadonlyMap<string, ServerConfig>, options: UpstreamConnectionOptions) {
    this.servers = [...configs.keys()];
    this.#connections = new Map([...configs].map(([name, config]) => [name, new UpstreamConnection(name, config, options)]));
  }

  connection(server: string): UpstreamConnection {
    const connection = this.#connections.get(server);
    if (!connection) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `there is no upstream server '${server}'`);
    return connection;
  }

  /** The capabilities an upstream declared, starting it if needed; undefined when it cannot start. */
  async capabilitiesOf(server: string): Promise<ServerCapabilities | undefined> {
    const connection = this.connection(server);
    await connection.connected();
    return connection.serverCapabilities;
  }

  noteResource(server: string, uri: string): void {
    this.#resourceOwners.set(uri, server);
  }

  noteTool(server: string, name: string, annotations: unknown): void {
    let tools = this.#toolAnnotations.get(server);
    if (!tools) this.#toolAnnotations.set(server, (tools = new Map()));
    tools.set(name, annotations);
  }

  /**
   * The annotations an upstream lists for one of its tools (undefined: none, or not listed). An agent
   * may call a tool it never listed, so the gateway then lists the server's tools once itself.
   */
  async toolAnnotations(server: string, tool: string): Promise<unknown> {
    const known = this.#toolAnnotations.get(server);
    if (known?.has(tool)) return known.get(tool);
    let listing = this.#toolListings.get(server);
    if (!listing) {
      listing = (async () => {
        for await (const listed of upstreamTools(this.connection(server))) this.noteTool(server, listed.name, listed.annotations);
      })().catch(() => {
        // The tool is then judged unannotated; the next call asks again.
        this.#toolListings.delete(server);
      });
      this.#toolListings.set(server, listing);
    }
    await listing;
    return this.#toolAnnotations.get(server)?.get(tool);
  }

  noteTemplate(server: string, uriTemplate: string): void {
    if (this.#templates.some((known) => known.server === server && known.template.toString() === uriTemplate)) return;
    this.#templates.push({ server, template: new UriTemplate(uriTemplate) });
  }

  /**
   * The upstream that serves a URI: one that listed it, else one whose template matches it, else the
   * only upstream offering resources. An unknown URI is refused rather than guessed.
   */
  async ownerOfResource(uri: string, listEverything: () => Promise<void>): Promise<string> {
    const known = this.ownerFromLists(uri);
    if (known) return known;
    const offering: string[] = [];
    for (const server of this.servers) {
      const capabilities = await this.capabilitiesOf(server).catch(() => undefined);
      if (capabilities?.resources) offering.push(server);
    }
    if (offering.length === 1 && offering[0] !== undefined) return offering[0];
    await listEverything();
    const listed = this.ownerFromLists(uri);
    if (listed) return listed;
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `unknown resource '${uri}': no upstream server lists it or has a template that matches it`);
  }

  /** Asks every upstream for these change notifications, the running ones now, the others when they start. */
  async subscribe(filter: SubscriptionFilter): Promise<void> {
    await Promise.all([...this.#connections.values()].map((connection) => connection.subscribe(filter)));
  }

  async notifyAll(notification: Notification): Promise<void> {
    await Promise.all([...this.#connections.values()].map((connection) => connection.notify(notification)));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#connections.values()].map((connection) => connection.close()));
  }

  private ownerFromLists(uri: string): string | undefined {
    return this.#resourceOwners.get(uri) ?? this.#templates.find(({ template }) => template.match(uri) !== null)?.server;
  }
}
