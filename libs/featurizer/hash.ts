const { imul } = Math;
/** FNV-1a over a substring, 32-bit. Stable across processes and platforms (no seed, no Map order). */
export function fnv1a(s: string, start: number, end: number, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = start; i < end; i++) h = imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
