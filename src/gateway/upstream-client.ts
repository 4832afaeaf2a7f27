import { Client, type JSONRPCNotification, type MessageExtraInfo } from '@modelcontextprotocol/client';

/**
 * The SDK client (2.4) answers responses at once but dispatches notifications a microtask later, so
 * a server's last progress notification, arriving in the same read as the result, finds its handler
 * already gone and is dropped. A gateway must pass every one on, so progress is dispatched at once.
 */
export class UpstreamClient extends Client {
  protected override _onnotification(raw: JSONRPCNotification, extra?: MessageExtraInfo): void {
    if (raw.method === 'notifications/progress') {
      (this as unknown as { _onprogress(notification: JSONRPCNotification): void })._onprogress(raw);
      return;
    }
    super._onnotification(raw, extra);
  }
}
