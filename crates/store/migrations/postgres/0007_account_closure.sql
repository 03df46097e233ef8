-- Account closure: deactivated at once, personal data erased after a grace period; the id
-- stays as a tombstone so products' references never dangle. People cannot close their own
-- account; they ask, and an administrator decides.

ALTER TABLE accounts ADD COLUMN closed_at BIGINT;
ALTER TABLE accounts ADD COLUMN erase_after BIGINT;
ALTER TABLE accounts ADD COLUMN erased_at BIGINT;

CREATE TABLE closure_requests (
    account_id   TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    requested_at BIGINT NOT NULL,
    reason       TEXT NOT NULL
);
