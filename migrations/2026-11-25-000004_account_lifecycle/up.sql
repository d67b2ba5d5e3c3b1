-- Accounts are disabled, never deleted: the audit log and action plans keep naming them.
ALTER TABLE accounts ADD COLUMN disabled_on TEXT;
-- Bumped when the password changes or the account is disabled: a session signed in under an
-- older value ends at its next request.
ALTER TABLE accounts ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
