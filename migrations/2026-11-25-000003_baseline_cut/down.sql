ALTER TABLE waves DROP COLUMN cut_y;
ALTER TABLE waves DROP COLUMN cut_x;
ALTER TABLE waves DROP COLUMN baseline_wave_id;
