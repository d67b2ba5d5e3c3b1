ALTER TABLE action_plans DROP COLUMN updated_at;
ALTER TABLE action_plans DROP COLUMN policy_actions;
ALTER TABLE action_plans DROP COLUMN status;
