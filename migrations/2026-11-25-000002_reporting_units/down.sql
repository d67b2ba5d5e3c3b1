DROP TABLE reporting_unit_members;
DROP TABLE reporting_units;
