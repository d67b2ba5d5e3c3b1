-- Merged reporting units (集計単位): small sibling workplaces reported together as one group
-- of at least k people, instead of lowering k (anonymity rule 8).
CREATE TABLE reporting_units (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

-- A workplace belongs to at most one unit; a unit's members share one parent.
CREATE TABLE reporting_unit_members (
    unit_id INTEGER NOT NULL REFERENCES reporting_units(id) ON DELETE CASCADE,
    workplace_id INTEGER NOT NULL UNIQUE REFERENCES workplaces(id),
    PRIMARY KEY (unit_id, workplace_id)
);
