-- Storage that forgets (docs/anonymity.md, "What the files hold").
--
-- SQLite places each new cell of a B-tree page just below the previous one, so rows inserted
-- at submission time reveal their insertion order whatever their random keys. Responses and
-- comments therefore live in fixed-size slots, allocated empty when codes are issued (one of
-- each per code) and filled in place on submission: a cell rewritten with a payload of the
-- same size stays where it is, so the file shows which slots are filled, never when.
--
-- Rows of earlier waves are kept as filled slots.
CREATE TABLE response_slots (
    wave_id INTEGER NOT NULL REFERENCES waves(id),
    workplace_id INTEGER NOT NULL REFERENCES workplaces(id),
    id BLOB NOT NULL,
    filled BOOLEAN NOT NULL DEFAULT 0,
    -- The job level option id, NUL-padded to a fixed width ('' = not given).
    job_level TEXT NOT NULL,
    answers BLOB NOT NULL,
    PRIMARY KEY (wave_id, workplace_id, id)
) WITHOUT ROWID;
INSERT INTO response_slots (wave_id, workplace_id, id, filled, job_level, answers)
SELECT wave_id, workplace_id, id, 1, COALESCE(job_level, ''), answers FROM responses;
DROP TABLE responses;
ALTER TABLE response_slots RENAME TO responses;

CREATE TABLE comment_slots (
    wave_id INTEGER NOT NULL REFERENCES waves(id),
    workplace_id INTEGER NOT NULL REFERENCES workplaces(id),
    id BLOB NOT NULL,
    filled BOOLEAN NOT NULL DEFAULT 0,
    -- The comment, NUL-padded to the wave's fixed comment width.
    body TEXT NOT NULL,
    PRIMARY KEY (wave_id, workplace_id, id)
) WITHOUT ROWID;
INSERT INTO comment_slots (wave_id, workplace_id, id, filled, body)
SELECT wave_id, workplace_id, id, 1, body FROM comments;
DROP TABLE comments;
ALTER TABLE comment_slots RENAME TO comments;

-- The index no longer holds `used`: an index entry that moves on every redemption is
-- re-inserted, and its place in the page would tell the order of redemption.
DROP INDEX invitation_codes_by_wave;
CREATE INDEX invitation_codes_by_workplace ON invitation_codes(wave_id, workplace_id);
