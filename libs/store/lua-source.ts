import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LUA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'lua');

/** The text of one of the store's Lua scripts (./lua: one script a file, key count in its name (n: any number), contract in its header). */
export const luaSource = (name: string): string => readFileSync(join(LUA_DIR, name), 'utf8');
