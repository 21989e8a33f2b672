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

  async list(): Promise<Model[]> {
    const rows = await this.sql<{ id: string; config: ModelConfig }[]>`select id, config from models order by id`;
    return rows.map((r) => ({ id: r.id, ...r.config }));
  }

  async get(id: string): Promise<Model | null> {
    const [r] = await this.sql<{ id: string; config: ModelConfig }[]>`select id, config from models where id = ${id}`;
    return r ? { id: r.id, ...r.config } : null;
  }

  /** Deletes unless a policy lists the model as an arm; returns the policies that use it otherwise. */
  async deleteUnlessUsed(id: string): Promise<{ deleted: boolean; usedBy: string[] }> {
    return this.sql.begin(async (tx) => {
      const users = await tx<{ name: string }[]>`
        select name from policies where config->'arms' ? ${id} for update`;
      if (users.length > 0) return { deleted: false, usedBy: users.map((u) => u.name) };
      const r = await tx`delete from models where id = ${id}`;
      return { deleted: r.count > 0, usedBy: [] };
    });
  }
}
