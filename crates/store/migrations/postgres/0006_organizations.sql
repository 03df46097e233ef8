-- Organizations, their admins and the domains they claim.

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE org_admins (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (org_id, account_id)
);
CREATE INDEX org_admins_account ON org_admins (account_id);

CREATE TABLE org_domains (
    org_id          TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    domain          TEXT NOT NULL,
    token           TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    verified_at     BIGINT,
    last_checked_at BIGINT,
    last_error      TEXT,
    -- Background re-checks: pending domains with backoff for 7 days, verified ones daily.
    next_check_at   BIGINT,
    checks          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, domain)
);
CREATE INDEX org_domains_due ON org_domains (next_check_at);
-- One organization per verified domain, enforced by the database on both engines.
CREATE UNIQUE INDEX org_domains_verified ON org_domains (domain) WHERE status = 'verified';
