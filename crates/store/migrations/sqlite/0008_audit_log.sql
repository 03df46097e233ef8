-- The audit log: every security-relevant event once, append-only. The sequence number orders
-- events as they were written (several can share a second), and pages and exports walk the
-- log by it without offsets. (The one column whose type differs between the engines.)
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    event       TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    actor_id    TEXT,
    actor       TEXT NOT NULL,
    target_id   TEXT,
    target      TEXT NOT NULL,
    org_id      TEXT,
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL,
    details     TEXT NOT NULL
);
CREATE INDEX audit_events_org ON audit_events (org_id, seq);
CREATE INDEX audit_events_target ON audit_events (target_id, seq);
CREATE INDEX audit_events_at ON audit_events (at);
