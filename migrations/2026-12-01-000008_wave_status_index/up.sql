-- A wave's status sits after its definition (tens of kB) in the row, so reading it walks the
-- definition's overflow pages: each code lookup read about eight pages for one word. This
-- index holds (id, status) together; the lookups on the submission path name it (INDEXED BY).
CREATE INDEX waves_status ON waves(id, status);
