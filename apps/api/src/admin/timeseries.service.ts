import { Injectable } from '@nestjs/common';
import { same, type Same, timeseriesPointSchema, type timeseriesResponseSchema } from '@app/contracts';
import { DomainError } from '@app/errors';
import { PoliciesRepository, TimeseriesRepository, type TimeseriesRow } from '@app/persistence';
import { type z } from 'zod';

// Compile-time: a point of the response is a repository row with its bucket as ISO 8601.
same<Same<z.output<typeof timeseriesPointSchema>, Omit<TimeseriesRow, 'bucket'> & { bucket: string }>>(true);

/** Per-bucket, per-model activity of a policy over time (the dashboard's charts), from the durable log. */
@Injectable()
export class TimeseriesService {
  constructor(
    private readonly policies: PoliciesRepository,
    private readonly series: TimeseriesRepository,
  ) {}

  async timeseries(name: string, q: { from: Date; to: Date; bucket: string; bucketSeconds: number }): Promise<z.output<typeof timeseriesResponseSchema>> {
    if (!(await this.policies.get(name))) throw new DomainError('POLICY_NOT_FOUND', `policy ${name} does not exist`);
    const rows = await this.series.buckets(name, q.from, q.to, q.bucketSeconds);
    return {
      policy: name,
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      bucket: q.bucket,
      points: rows.map((r) => ({ ...r, bucket: r.bucket.toISOString() })),
    };
  }
}
