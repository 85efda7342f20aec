import { randomBytes } from 'node:crypto';

import type { Dashboard } from '../dashboard/server.js';
import type { Processor } from '../processor.js';

/**
 * Serves the dashboard on loopback with a token made for this process, and
 * the URL to open: it carries the token in its fragment (`#token=`), which
 * the browser never sends to the server, and the page moves into
 * `sessionStorage` and strips from the address bar. With it the page can
 * cancel and retry; without it the dashboard answers 401.
 */
export async function serveDashboardWithToken(processor: Processor, port: number): Promise<{ dashboard: Dashboard; url: string }> {
  const token = randomBytes(32).toString('base64url');
  const dashboard = await processor.serveDashboard({ port, token });
  return { dashboard, url: `${dashboard.url}#token=${token}` };
}
