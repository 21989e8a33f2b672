// Copies non-TypeScript runtime assets (the Lua scripts) next to the compiled code in dist/.
import { cpSync, mkdirSync } from 'node:fs';
mkdirSync('dist/libs/store/lua', { recursive: true });
cpSync('libs/store/lua', 'dist/libs/store/lua', { recursive: true });
