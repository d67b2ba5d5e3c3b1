ALTER TABLE accounts DROP COLUMN session_epoch;
ALTER TABLE accounts DROP COLUMN disabled_on;
