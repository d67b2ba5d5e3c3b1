-- A closed wave's guarded results, computed once inside the transaction that closes it
-- (`aggregation::frozen::freeze`) and returned unchanged by every later read: organisation
-- imports, merges and moves never re-cut a closed wave (PRODUCT.md rule 9). Waves closed
-- before this migration are frozen by the upgrade step that runs after migrations
-- (`db::migrate`), with the organisation as it stands then.
CREATE TABLE frozen_results (
    wave_id INTEGER PRIMARY KEY NOT NULL REFERENCES waves(id),
    results_json TEXT NOT NULL
);
