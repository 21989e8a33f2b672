-- 002: per-model energy readings are re-folded when Redis loses their totals.
-- serves: EventsRepository.modelReadings (select … from events where status = 'model' order by id)
create index events_model_readings on events (id) where status = 'model';
