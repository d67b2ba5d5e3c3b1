-- Organisation: 部 > 課 > 係, any depth. Codes are HR's own identifiers.
CREATE TABLE workplaces (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES workplaces(id),
    headcount INTEGER CHECK (headcount IS NULL OR headcount >= 0)
);
CREATE INDEX workplaces_by_parent ON workplaces(parent_id);

-- A survey period. The definition is stored as a snapshot (text + SHA-256) so that editing the
-- file later never changes past results. k and k2 are locked once the first response exists.
CREATE TABLE waves (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    survey_id TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    definition_toml TEXT NOT NULL,
    definition_sha256 TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    min_group_size INTEGER NOT NULL CHECK (min_group_size >= 3),
    min_detail_group_size INTEGER NOT NULL,
    opened_on TEXT NOT NULL,
    closed_on TEXT,
    CHECK (min_detail_group_size >= min_group_size)
);

-- One-time invitation codes: only a keyed hash (HMAC-SHA256 with the server secret), never the
-- code. WITHOUT ROWID keeps rows in hash order, so storage order says nothing about issue or
-- redemption order. Nothing about the person is stored.
CREATE TABLE invitation_codes (
    code_hash BLOB PRIMARY KEY NOT NULL,
    wave_id INTEGER NOT NULL REFERENCES waves(id),
    workplace_id INTEGER NOT NULL REFERENCES workplaces(id),
    used BOOLEAN NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX invitation_codes_by_wave ON invitation_codes(wave_id, workplace_id, used);

-- Responses: keyed by (wave, random 16-byte id) in a WITHOUT ROWID table, so a wave's
-- responses lie together (one range scan loads a wave) in random order, not submission
-- order. No code reference, no timestamp, no IP, no agent. Answers are one byte per item in
-- the definition's item order (255 = no answer).
CREATE TABLE responses (
    wave_id INTEGER NOT NULL REFERENCES waves(id),
    id BLOB NOT NULL,
    workplace_id INTEGER NOT NULL REFERENCES workplaces(id),
    job_level TEXT,
    answers BLOB NOT NULL,
    PRIMARY KEY (wave_id, id)
) WITHOUT ROWID;

-- Free comments live apart from responses (their own random ids), so a comment cannot be
-- joined to a respondent's answers or job level.
CREATE TABLE comments (
    wave_id INTEGER NOT NULL REFERENCES waves(id),
    id BLOB NOT NULL,
    workplace_id INTEGER NOT NULL REFERENCES workplaces(id),
    body TEXT NOT NULL,
    PRIMARY KEY (wave_id, id)
) WITHOUT ROWID;

-- HR and manager accounts (never staff). Passwords are argon2id PHC strings.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY NOT NULL,
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('hr', 'manager')),
    created_at TEXT NOT NULL
);

-- Which workplaces (and so their subtrees) a manager may see.
CREATE TABLE manager_scopes (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    workplace_id INTEGER NOT NULL REFERENCES workplaces(id),
    PRIMARY KEY (account_id, workplace_id)
);

-- The "Act" of PDCA: what a workplace will do after a wave's results.
CREATE TABLE action_plans (
    id INTEGER PRIMARY KEY NOT NULL,
    wave_id INTEGER NOT NULL REFERENCES waves(id),
    workplace_id INTEGER NOT NULL REFERENCES workplaces(id),
    dimension TEXT NOT NULL,
    action TEXT NOT NULL,
    owner TEXT NOT NULL,
    due_on TEXT,
    created_by INTEGER REFERENCES accounts(id),
    created_at TEXT NOT NULL
);
CREATE INDEX action_plans_by_workplace ON action_plans(workplace_id, wave_id);

-- Who viewed or exported which results (accounts only; respondents are never logged).
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    account_id INTEGER REFERENCES accounts(id),
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);

-- Small key/value facts about this database (e.g. that it is a disposable demo database).
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
