import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { jsonRpcErrorResponse } from './json-rpc-error-response.js';

const LOOPBACK_HOSTNAMES = ['localhost', '127.0.0.1', '[::1]', '::1'];

export interface HostGuardOptions {
  /** Host names (without port) accepted besides loopback ones. */
  allowedHosts: readonly string[];
  /** Full origins (`https://app.example`) accepted besides loopback ones. */
  allowedOrigins: readonly string[];
}

/**
 * Against DNS rebinding: a page on evil.example that resolves its name to 127.0.0.1 reaches the
 * gateway with `Host: evil.example` and `Origin: http://evil.example`; both are refused.
 */
export function hostAndOriginGuard(options: HostGuardOptions): MiddlewareHandler {
  const hosts = new Set([...LOOPBACK_HOSTNAMES, ...options.allowedHosts].map((host) => host.toLowerCase()));
  const origins = new Set(options.allowedOrigins.map((origin) => origin.toLowerCase()));
  return async (c, next) => {
    const host = c.req.header('host');
    const hostname = host === undefined ? undefined : hostnameOf(host);
    if (hostname === undefined || !(hosts.has(hostname) || hosts.has(host!.toLowerCase()))) {
      return jsonRpcErrorResponse(403, -32000, `Host header '${host ?? ''}' is not allowed: add it to listen.allowedHosts to accept it`);
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !origins.has(origin.toLowerCase())) {
      const originHost = URL.canParse(origin) ? new URL(origin).hostname.toLowerCase() : undefined;
      if (originHost === undefined || !hosts.has(originHost)) {
        return jsonRpcErrorResponse(403, -32000, `Origin '${origin}' is not allowed: add it to listen.allowedOrigins to accept it`);
      }
    }
    await next();
  };
}

export function requestBodyLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = (): Response => jsonRpcErrorResponse(413, -32600, `request body is larger than ${maxBytes} bytes (listen.maxBodyBytes)`);
  const readWithLimit = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    // A declared length is checked without touching the body (the HTTP parser holds the body to it),
    // so that on Node the body is read later straight from the socket, without a web stream.
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > maxBytes) return tooLarge();
      await next();
      return;
    }
    return readWithLimit(c, next);
  };
}

function hostnameOf(host: string): string | undefined {
  return URL.canParse(`http://${host}`) ? new URL(`http://${host}`).hostname.toLowerCase() : undefined;
}
