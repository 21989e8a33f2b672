import { type Model, type ModelConfig } from '@app/contracts';
import { type Sql } from './db.js';

export class ModelsRepository {
  constructor(private readonly sql: Sql) {}

  async upsert(id: string, config: ModelConfig): Promise<Model> {
    await this.sql`
      insert into models (id, config) values (${id}, ${this.sql.json(config)})
      on conflict (id) do update set config = excluded.config, updated_at = now()`;
    return { id, ...config };
  }

  /**
   * Applies `change` to the stored config under a row lock (concurrent partial updates do not lose each other's
   * fields); null when there is no such model. A `change` that throws leaves the row as it was.
   */
  async update(id: string, change: (config: ModelConfig) => ModelConfig): Promise<{ before: Model; after: Model } | null> {
    return this.sql.begin(async (tx) => {
      const [row] = await tx<{ config: ModelConfig }[]>`select config from models where id = ${id} for update`;
      if (!row) return null;
      const next = change(row.config);
      await tx`update models set config = ${tx.json(next)}, updated_at = now() where id = ${id}`;
      return { before: { id, ...row.config }, after: { id, ...next } };
    });
  }

  async list(): Promise<Model[]> {
    const rows = await this.sql<{ id: string; config: ModelConfig }[]>`select id, config from models order by id`;
    return rows.map((r) => ({ id: r.id, ...r.config }));
  }

  async get(id: string): Promise<Model | null> {
    const [r] = await this.sql<{ id: string; config: ModelConfig }[]>`select id, config from models where id = ${id}`;
    return r ? { id: r.id, ...r.config } : null;
  }

  /** Deletes unless a policy uses the model (as an arm, or as its embeddings model); returns those policies otherwise. */
  async deleteUnlessUsed(id: string): Promise<{ deleted: boolean; usedBy: string[] }> {
    return this.sql.begin(async (tx) => {
      const users = await tx<{ name: string }[]>`
        select name from policies where config->'arms' ? ${id} or config->'features'->>'model' = ${id} for update`;
      if (users.length > 0) return { deleted: false, usedBy: users.map((u) => u.name) };
      const r = await tx`delete from models where id = ${id}`;
      return { deleted: r.count > 0, usedBy: [] };
    });
  }
}
