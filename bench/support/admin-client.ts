import { Pool } from 'undici';
import { ADMIN } from './service.js';

/** POSTs JSON to a built service with the admin key over a pool of keep-alive connections (no pipelining). */
export function adminClient(base: string, connections: number) {
  const pool = new Pool(base, { connections, pipelining: 1 });
  const post = async (path: string, body: unknown) => {
    const r = await pool.request({
      method: 'POST',
      path,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await r.body.text();
    return { status: r.statusCode, body: text ? JSON.parse(text) : null };
  };
  return { post, close: () => pool.close() };
}
