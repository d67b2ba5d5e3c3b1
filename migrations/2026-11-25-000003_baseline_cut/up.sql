-- A wave whose definition takes its quadrant cut from a baseline wave records that wave and
-- the cut itself (the baseline's organisation means on the two axes), frozen at creation so
-- that later changes to the organisation never move it.
ALTER TABLE waves ADD COLUMN baseline_wave_id INTEGER;
ALTER TABLE waves ADD COLUMN cut_x REAL;
ALTER TABLE waves ADD COLUMN cut_y REAL;
