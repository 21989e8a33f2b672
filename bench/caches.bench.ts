import { type DecisionRecord } from '@app/contracts';
import { SettledDecisions } from '@app/persistence';
import { RecentDecisions } from '../libs/ingest/recent-decisions.js';
import { Lru } from '../apps/api/src/auth/lru.js';
import { EmbeddingCache } from '../apps/api/src/routing/embedding-cache.js';

/**
 * The service's bounded caches, filled and then kept full, where each add also forgets the oldest entry: the
 * worker's RecentDecisions (decisions seen lately, ~30,800 at d = 64) and SettledDecisions (50,000 ids known stored
 * and applied), which every decision goes through, and the api's least-recently-used maps: the key resolver's
 * (10,000 keys; each add here also uses a recent key, as requests do) and the embeddings cache (50,000 vectors of
 * d = 64 by default). Prints µs per add while filling and once full, and their ratio (near 1 when forgetting costs
 * no more than adding).
 * Usage: npm run bench:caches [-- fills]   (default 4: each cache is filled that many times over)
 */
const [fills = 4] = process.argv.slice(2).map(Number);
const D = 64;
const x = Array.from({ length: D }, (_, i) => i / D);
const record = (id: string) => ({ id, x }) as unknown as DecisionRecord;

function measure(name: string, capacity: number, add: (id: string) => void) {
  const per = (n: number, from: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) add(`dec_${from + i}`);
    return ((performance.now() - t0) * 1000) / n;
  };
  const filling = per(capacity, 0);
  const full = per(capacity * (fills - 1), capacity);
  console.log(`${name}: ${filling.toFixed(2)} µs per add while filling, ${full.toFixed(2)} µs once full: ${(full / filling).toFixed(2)}x`);
}

const recent = new RecentDecisions();
measure('RecentDecisions (30,769 decisions at d = 64)', Math.floor(2_000_000 / (D + 1)), (id) => recent.add(record(id)));
const settled = new SettledDecisions();
measure('SettledDecisions (50,000 ids)', 50_000, (id) => settled.add(id));
const keys = new Lru<string, number>(10_000);
let used = 0;
measure('key resolver LRU (10,000 keys)', 10_000, (id) => {
  keys.get(`dec_${used++ >> 1}`);
  keys.set(id, 1);
});
const vectors = new EmbeddingCache(50_000, 1 << 30);
const vector = new Float64Array(D);
measure('embeddings cache (50,000 vectors)', 50_000, (id) => vectors.set(id, vector));
