/**
 * Node flags the api and worker processes run with (`npm start`, `npm run start:api|start:worker`, the benchmarks;
 * the image sets the same in NODE_OPTIONS). A 64 MiB young-generation semi-space: a feedback batch of 500 events
 * keeps thousands of Redis commands and their promises alive at once, which the default (16 MiB) promotes to the
 * old generation and collects there; with it the batch endpoints accept 12–19 % more events per second on the same
 * CPU (`npm run bench:ingest`, same run), single routes are unchanged, and a process may hold ~150 MiB more
 * of young generation.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
