import { PageLayout } from './page-layout.js';

/** Where a reviewer or approver pastes their token; it goes to the gateway once, in the form's body, never in a URL. */
export function LoginPage({ problem, next }: { problem: string | undefined; next: string | undefined }) {
  return (
    <PageLayout title="Sign in">
      <h1>Sign in</h1>
      <form class="login" method="post" action="/ui/login">
        {problem === undefined ? null : <p class="problem" role="alert">{problem}</p>}
        <label>
          Token
          <input type="password" name="token" autocomplete="off" required autofocus />
        </label>
        <span class="muted">A reviewer or approver token, from <code>agenttrail agents add NAME --role reviewer|approver</code>. This browser keeps it in a cookie its pages' scripts cannot read.</span>
        {next === undefined ? null : <input type="hidden" name="next" value={next} />}
        <button type="submit">Sign in</button>
      </form>
    </PageLayout>
  );
}
