// Type-only import: Jest require()s this file, which cannot resolve a project module by its .js name.
import type { StartedServices } from './global-setup.js';

/** Stops the private Redis / Postgres that global-setup.ts started, if any (shared services are left alone). */
export default function globalTeardown(): void {
  const started = (globalThis as Record<string, unknown>).__routerTestServices as StartedServices | undefined;
  if (!started) return;
  started.cleanup();
  process.removeListener('exit', started.cleanup);
  process.removeListener('SIGINT', started.onSignal);
  process.removeListener('SIGTERM', started.onSignal);
  delete (globalThis as Record<string, unknown>).__routerTestServices;
}
