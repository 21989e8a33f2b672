// Copies non-TypeScript runtime assets next to the compiled code in dist/: the Lua scripts, and the dashboard's
// browser files (served as they are: the build leaves them to this copy, not to swc).
import { cpSync, mkdirSync } from 'node:fs';
mkdirSync('dist/libs/store/lua', { recursive: true });
cpSync('libs/store/lua', 'dist/libs/store/lua', { recursive: true });
cpSync('apps/api/src/dashboard/web', 'dist/apps/api/src/dashboard/web', {
  recursive: true,
  filter: (src) => !src.endsWith('.d.ts') && !src.endsWith('tsconfig.json'),
});
