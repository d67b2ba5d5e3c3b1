-- The plan cycle (PDCA): a plan has a status the team moves it through, the policy's
-- 共有 / サポート actions the team picked for it (ids from src/policy/actions.toml, separated
-- by spaces), and the day it was last changed.
ALTER TABLE action_plans ADD COLUMN status TEXT NOT NULL DEFAULT 'not_started'
    CHECK (status IN ('not_started', 'in_progress', 'done'));
ALTER TABLE action_plans ADD COLUMN policy_actions TEXT NOT NULL DEFAULT '';
ALTER TABLE action_plans ADD COLUMN updated_at TEXT;
