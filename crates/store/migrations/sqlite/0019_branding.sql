-- The installation's look, set by a site admin: one row (id 1), or none for Latchkey's own.
CREATE TABLE branding (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    logo_uri TEXT,
    colour TEXT,
    updated_at INTEGER NOT NULL
);
