/** Where the dashboard's built page is: copied into the CLI's `dist/dashboard` by its build, or, from the source tree, the dashboard app's own build. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of the built dashboard page (`index.html` and `assets/`). */
export function dashboardPage(): string {
  const here = import.meta.url;
  // dist/bin.js has it beside itself; src/supervisor/page.ts (tests) reads the dashboard app's build.
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../../dashboard/dist/page/' : './dashboard/', here));
}

/** Whether the page is built where {@link dashboardPage} says. */
export function hasDashboardPage(): boolean {
  return existsSync(join(dashboardPage(), 'index.html'));
}
