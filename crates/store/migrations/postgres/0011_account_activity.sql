-- What an organization's console shows about a managed account: when it was last active (a
-- sign-in to Latchkey or to a product) and which products it has signed in to.

ALTER TABLE accounts ADD COLUMN last_active_at BIGINT;

CREATE TABLE account_products (
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id     TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    first_used_at BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
