-- Upgrading products' own user databases: imported records with their legacy password hashes,
-- each product's rollout state, and the link from a record to the Latchkey account it became.

-- NULL: a product with no legacy users (it always signed in through Latchkey).
ALTER TABLE clients ADD COLUMN rollout TEXT CHECK (rollout IN ('legacy', 'upgrading', 'upgraded'));

CREATE TABLE legacy_records (
    client_id        TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    legacy_id        TEXT NOT NULL,
    username         TEXT NOT NULL,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    name             TEXT NOT NULL,
    -- As imported (never rehashed here); NULL once purged, or when the record had none.
    password_hash    TEXT,
    -- The recognised format, or NULL when the hash cannot be used.
    hash_format      TEXT,
    active           INTEGER NOT NULL,
    created_at       INTEGER,
    last_login_at    INTEGER,
    -- SHA-256 of the imported fields: a re-import of an unchanged record writes nothing.
    fingerprint      TEXT NOT NULL,
    imported_at      INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    account_id       TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    linked_at        INTEGER,
    PRIMARY KEY (client_id, legacy_id)
);
CREATE INDEX legacy_records_email ON legacy_records (email_normalized);
CREATE INDEX legacy_records_username ON legacy_records (client_id, username);
-- One linked legacy record per account and product.
CREATE UNIQUE INDEX legacy_records_link ON legacy_records (client_id, account_id)
    WHERE account_id IS NOT NULL;
