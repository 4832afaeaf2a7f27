import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeBase64 } from '../../ledger/base64.js';
import { UI_STYLESHEET } from './ui-stylesheet.js';

/**
 * What the browser runs is the project's own code as built (dist/ledger and dist/http/ui/browser,
 * plain ES modules) and the packages they import, not a bundle: the verification a reviewer runs
 * in the browser is the very code `agenttrail verify` runs. An import map names the packages.
 */
export type AssetRoot = 'app' | 'noble-hashes' | 'noble-ed25519';

/** Reads the files the browser may load; the runtime adapter knows where they are (src/cli/ui-asset-files.ts). */
export interface UiAssetFiles {
  /** A file of `root`: for `app`, a path below the built sources (`ledger/base64.js`); undefined when there is none. */
  read(root: AssetRoot, path: string): Promise<string | undefined>;
}

const ASSETS = '/ui/assets';

/** The `<script type="importmap">` text; its hash is in the pages' Content-Security-Policy. */
export const IMPORT_MAP = JSON.stringify({
  imports: {
    '@noble/hashes/': `${ASSETS}/noble-hashes/`,
    '@noble/ed25519': `${ASSETS}/noble-ed25519/index.js`,
  },
});

/** The built modules the browser may load: the ledger's runtime-neutral code and the UI's own scripts. */
const APP_MODULE = /^(?:ledger|http\/ui\/browser)\/[a-z0-9-]+\.js$/;
/** A package's module file, in its own folder (noble's `_md.js` among them). */
const PACKAGE_MODULE = /^[a-z0-9_-]+\.js$/;

/** The URL of one of the UI's browser scripts (src/http/ui/browser). */
export function browserScript(name: string): string {
  return `${ASSETS}/app/http/ui/browser/${name}.js`;
}

export const STYLESHEET_URL = `${ASSETS}/ui.css`;

/**
 * No inline script but the import map (by its hash), no inline style, nothing from elsewhere, no
 * framing (an approve button under someone else's page is a click away from a forged approval).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src 'self' 'sha256-${encodeBase64(sha256(new TextEncoder().encode(IMPORT_MAP)))}'`,
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The headers of every UI response. Pages show the log to whoever holds the token: no cache keeps them. */
export function uiSecurityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    // same-origin, not no-referrer: with no-referrer a form's POST says `Origin: null`, which the host guard refuses.
    c.header('Referrer-Policy', 'same-origin');
    if (!c.req.path.startsWith(`${ASSETS}/`)) c.header('Cache-Control', 'no-store');
  };
}

/** Serves the stylesheet and the modules under /ui/assets, to anyone: they hold code, not the log. */
export function uiAssets(files: UiAssetFiles): Hono {
  const assets = new Hono();
  const script = (body: string | undefined) =>
    body === undefined
      ? new Response('no such file', { status: 404 })
      : new Response(body, { headers: { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' } });
  assets.get('/ui.css', (c) => c.body(UI_STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'no-cache' }));
  assets.get('/app/*', async (c) => {
    const path = c.req.path.slice(`${ASSETS}/app/`.length);
    return script(APP_MODULE.test(path) ? await files.read('app', path) : undefined);
  });
  for (const root of ['noble-hashes', 'noble-ed25519'] as const) {
    assets.get(`/${root}/:file`, async (c) => {
      const file = c.req.param('file');
      return script(PACKAGE_MODULE.test(file) ? await files.read(root, file) : undefined);
    });
  }
  return assets;
}
