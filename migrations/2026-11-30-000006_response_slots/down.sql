-- SQLite's length() of a text stops at its first NUL: substr(x, 1, length(x)) drops the padding.
DROP INDEX invitation_codes_by_workplace;
CREATE INDEX invitation_codes_by_wave ON invitation_codes(wave_id, workplace_id, used);

CREATE TABLE comment_rows (
    wave_id INTEGER NOT NULL REFERENCES waves(id),
    id BLOB NOT NULL,
    workplace_id INTEGER NOT NULL REFERENCES workplaces(id),
    body TEXT NOT NULL,
    PRIMARY KEY (wave_id, id)
) WITHOUT ROWID;
INSERT INTO comment_rows (wave_id, id, workplace_id, body)
SELECT wave_id, id, workplace_id, substr(body, 1, length(body)) FROM comments WHERE filled;
DROP TABLE comments;
ALTER TABLE comment_rows RENAME TO comments;

CREATE TABLE response_rows (
    wave_id INTEGER NOT NULL REFERENCES waves(id),
    id BLOB NOT NULL,
    workplace_id INTEGER NOT NULL REFERENCES workplaces(id),
    job_level TEXT,
    answers BLOB NOT NULL,
    PRIMARY KEY (wave_id, id)
) WITHOUT ROWID;
INSERT INTO response_rows (wave_id, id, workplace_id, job_level, answers)
SELECT wave_id, id, workplace_id, NULLIF(substr(job_level, 1, length(job_level)), ''), answers
FROM responses WHERE filled;
DROP TABLE responses;
ALTER TABLE response_rows RENAME TO responses;
