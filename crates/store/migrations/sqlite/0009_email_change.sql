-- Email changes: a confirmation link to the new address (it takes effect only then), and a
-- seven-day "this wasn't me" link to the old one that undoes it. Both stored as SHA-256.
CREATE TABLE email_changes (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX email_changes_account ON email_changes (account_id);
