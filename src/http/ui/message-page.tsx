import type { Principal } from '../../auth/principal.js';
import { PageLayout } from './page-layout.js';

/** A page that only says something: why a request was refused, or what went wrong. */
export function MessagePage({ title, message, principal }: { title: string; message: string; principal: Principal | undefined }) {
  return (
    <PageLayout title={title} principal={principal}>
      <h1>{title}</h1>
      <p class="problem" role="alert">
        {message}
      </p>
    </PageLayout>
  );
}
