-- "Change account" on /account/services: which of a product's legacy accounts is linked to a
-- Latchkey account changes only after a link mailed to that legacy account's address is used,
-- by the Latchkey account that asked. The token is stored as SHA-256.
CREATE TABLE legacy_link_changes (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX legacy_link_changes_account ON legacy_link_changes (account_id, client_id);

-- Each finished import (CLI, admin API or console): what it did, and its first line errors,
-- so the console can show the result page after its redirect, and the last import.
CREATE TABLE legacy_imports (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    dry_run     BIGINT NOT NULL,
    imported    BIGINT NOT NULL,
    updated     BIGINT NOT NULL,
    unchanged   BIGINT NOT NULL,
    skipped     BIGINT NOT NULL,
    errors      BIGINT NOT NULL,
    -- JSON: the first line errors, [{"line", "reason"}].
    first_errors TEXT NOT NULL,
    milliseconds BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    -- Orders imports finished within the same second.
    seq         BIGINT NOT NULL
);
CREATE INDEX legacy_imports_client ON legacy_imports (client_id, seq);
