-- Account closure: deactivated at once, personal data erased after a grace period; the id
-- stays as a tombstone so products' references never dangle. People cannot close their own
-- account; they ask, and an administrator decides.

ALTER TABLE accounts ADD COLUMN closed_at INTEGER;
ALTER TABLE accounts ADD COLUMN erase_after INTEGER;
ALTER TABLE accounts ADD COLUMN erased_at INTEGER;

CREATE TABLE closure_requests (
    account_id   TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    requested_at INTEGER NOT NULL,
    reason       TEXT NOT NULL
);
