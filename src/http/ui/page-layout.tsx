import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import type { Principal } from '../../auth/principal.js';
import { isPermitted } from '../../auth/role-permissions.js';
import { browserScript, IMPORT_MAP, STYLESHEET_URL } from './ui-assets.js';

export interface PageLayoutProps {
  readonly title: string;
  /** Who is signed in; absent on the sign-in page. */
  readonly principal?: Principal | undefined;
  /** The browser scripts (src/http/ui/browser) the page runs, by name. */
  readonly scripts?: readonly string[];
  readonly children?: Child;
}

/** Every page's frame: the stylesheet, the scripts it needs, and the links its reader's role may follow. */
export function PageLayout({ title, principal, scripts = [], children }: PageLayoutProps) {
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${title} · AgentTrail`}</title>
          <link rel="stylesheet" href={STYLESHEET_URL} />
          {scripts.length === 0 ? null : <script type="importmap" dangerouslySetInnerHTML={{ __html: IMPORT_MAP }} />}
          {scripts.map((name) => (
            <script type="module" src={browserScript(name)} />
          ))}
        </head>
        <body>
          <header>
            <span class="brand">AgentTrail</span>
            {principal !== undefined && isPermitted(principal.role, 'read-log') ? <a href="/ui/sessions">Sessions</a> : null}
            {principal !== undefined ? <a href="/ui/approvals">Approvals</a> : null}
            {principal !== undefined ? (
              <form method="post" action="/ui/logout">
                <span class="muted">
                  {principal.name} ({principal.role}){' '}
                </span>
                <button type="submit">Sign out</button>
              </form>
            ) : null}
          </header>
          <main>{children}</main>
        </body>
      </html>
    </>
  );
}
