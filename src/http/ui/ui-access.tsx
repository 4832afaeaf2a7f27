import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import type { Principal } from '../../auth/principal.js';
import type { PrincipalDirectory } from '../../auth/principal-directory.js';
import { isPermitted } from '../../auth/role-permissions.js';
import type { ApiEnv } from '../api-principals.js';
import type { Permission } from '../../auth/role-permissions.js';
import { LoginPage } from './login-page.js';
import { MessagePage } from './message-page.js';

/** What the web UI's middleware learns about a request, for its pages and for the record of its use (as the API's). */
export type UiEnv = ApiEnv;

/**
 * The token itself is the cookie's value, so that a suspension or revocation holds from the very
 * next page (the directory is asked every time, as for agents). HttpOnly keeps it from the page's
 * scripts, SameSite=Strict from other sites' forms and links, Path=/ui from the MCP endpoint.
 */
const TOKEN_COOKIE = 'agenttrail_ui';
const COOKIE_PATH = '/ui';
/** A working day: after that the token is pasted again. */
const COOKIE_MAX_AGE_SECONDS = 8 * 60 * 60;

const LOOPBACK_HOSTNAME = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

const TOKEN_HINT = 'a reviewer or approver token from agenttrail agents add NAME --role reviewer|approver';

/** A page of the UI to go back to after signing in: a path under /ui, never another site. */
const NextPathSchema = z.string().regex(/^\/ui(?:\/[A-Za-z0-9._~%/?=&+-]*)?$/).refine((path) => !path.includes('//'));

const LoginFormSchema = z.object({
  token: z.string().trim().min(1, `paste ${TOKEN_HINT}`),
  next: NextPathSchema.optional().catch(undefined),
});

/** Where a reviewer or approver starts: the pages their one permission opens. */
export function landingOf(principal: Principal): string {
  return isPermitted(principal.role, 'read-log') ? '/ui/sessions' : '/ui/approvals';
}

/** Refuses with a page that says why, and keeps the reason for the record of this use. */
export function refusePage(c: Context<UiEnv>, status: 400 | 403 | 404, title: string, message: string): Response | Promise<Response> {
  c.set('problem', message);
  return c.html(<MessagePage title={title} message={message} principal={c.get('principal')} />, status);
}

/**
 * Lets a request through only for an active principal whose role holds one of `permissions`;
 * without a usable token, the sign-in page (401); with a token of another role, a refusal (403).
 * Routes that a page's script calls (`answer: 'json'`) are refused with a JSON error instead.
 */
export function requireUiPermission(principals: PrincipalDirectory, permissions: readonly Permission[], what: string, answer: 'page' | 'json' = 'page'): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    const refuse = (status: 401 | 403, problem: string, page: () => Response | Promise<Response>) => {
      c.set('problem', problem);
      return answer === 'json' ? c.json({ error: problem }, status) : page();
    };
    const askToSignIn = (problem: string) =>
      refuse(401, problem, () => c.html(<LoginPage problem={problem} next={c.req.method === 'GET' ? pathWithQuery(c) : undefined} />, 401));
    const token = getCookie(c, TOKEN_COOKIE);
    if (token === undefined) return askToSignIn(`not signed in: sign in with ${TOKEN_HINT}`);
    const found = await principals.authenticate(token);
    if (!('principal' in found)) return askToSignIn('the token this browser holds is not known (any more); sign in again');
    c.set('principal', found.principal);
    if (found.outcome !== 'accepted') return askToSignIn(`"${found.principal.name}" is ${found.outcome}`);
    const { role, name } = found.principal;
    if (!permissions.some((permission) => isPermitted(role, permission))) {
      const problem = `"${name}" holds ${article(role)} ${role} token, which cannot ${what}`;
      return refuse(403, problem, () => c.html(<MessagePage title="Not for this token" message={problem} principal={found.principal} />, 403));
    }
    await next();
    return undefined;
  };
}

/**
 * The sign-in form's answer: a reviewer or approver token is kept in the cookie and the browser
 * goes on to the page it asked for; an agent's or admin's token is refused (403), an unknown one
 * gets the form again (401).
 */
export async function signIn(c: Context<UiEnv>, principals: PrincipalDirectory): Promise<Response> {
  const form = LoginFormSchema.safeParse(await c.req.parseBody().catch(() => ({})));
  if (!form.success) {
    const problem = form.error.issues[0]!.message;
    c.set('problem', problem);
    return c.html(<LoginPage problem={problem} next={undefined} />, 400);
  }
  const { token, next } = form.data;
  const found = await principals.authenticate(token);
  const again = (status: 401 | 403, problem: string) => {
    c.set('problem', problem);
    return c.html(<LoginPage problem={problem} next={next} />, status);
  };
  if (!('principal' in found)) return again(401, `the token is not known: paste ${TOKEN_HINT}`);
  c.set('principal', found.principal);
  const { name, role } = found.principal;
  if (found.outcome !== 'accepted') return again(401, `"${name}" is ${found.outcome}`);
  if (!isPermitted(role, 'read-log') && !isPermitted(role, 'decide-approvals')) {
    return again(403, `"${name}" holds ${article(role)} ${role} token, which cannot open the web UI; sign in with ${TOKEN_HINT}`);
  }
  setCookie(c, TOKEN_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Strict',
    path: COOKIE_PATH,
    // Off loopback the token travels only over HTTPS (put a TLS proxy in front of the gateway).
    secure: !LOOPBACK_HOSTNAME.test(new URL(c.req.url).hostname),
    maxAge: COOKIE_MAX_AGE_SECONDS,
  });
  return c.redirect(next ?? landingOf(found.principal), 303);
}

export function signOut(c: Context<UiEnv>): Response {
  deleteCookie(c, TOKEN_COOKIE, { path: COOKIE_PATH });
  return c.redirect('/ui/login', 303);
}

function pathWithQuery(c: Context): string {
  const url = new URL(c.req.url);
  return `${url.pathname}${url.search}`;
}

function article(role: string): string {
  return /^[aeiou]/.test(role) ? 'an' : 'a';
}
