-- "Change account" on /account/services: which of a product's legacy accounts is linked to a
-- Latchkey account changes only after a link mailed to that legacy account's address is used,
-- by the Latchkey account that asked. The token is stored as SHA-256.
CREATE TABLE legacy_link_changes (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX legacy_link_changes_account ON legacy_link_changes (account_id, client_id);
