-- Authentication policies. Each organization has a default policy (default_for = its id) and
-- may add more; the site default (default_for = 'site') covers accounts no organization
-- manages. Settings are a JSON document so later rules (API tokens, SSO) slot in.
CREATE TABLE policies (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    default_for           TEXT UNIQUE,
    name                  TEXT NOT NULL,
    settings              TEXT NOT NULL,
    -- Passwords set before this moment must be replaced at the next sign-in.
    passwords_valid_after BIGINT,
    -- When two-step enrolment became required (the grace period counts from here).
    two_step_since        BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX policies_org ON policies (org_id);

-- One row; every change that can alter which policy applies to whom bumps it, and every node
-- reloads its cached policies when it sees a new value.
CREATE TABLE policy_epoch (
    id    BIGINT PRIMARY KEY,
    epoch BIGINT NOT NULL
);
INSERT INTO policy_epoch (id, epoch) VALUES (1, 1);

-- A managed account's policy when it is not its organization's default.
ALTER TABLE accounts ADD COLUMN policy_id TEXT;
-- When the password was last chosen (not when it was rehashed).
ALTER TABLE accounts ADD COLUMN password_changed_at BIGINT;
UPDATE accounts SET password_changed_at = updated_at WHERE password_hash IS NOT NULL;

-- Earlier password hashes, for "cannot reuse the last N".
CREATE TABLE password_history (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- 1, 2, 3… per account: the order passwords were chosen in (times can tie).
    position   BIGINT NOT NULL,
    hash       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, position)
);

-- How the person signed in (RFC 8176 values, space-separated), for policies and ID tokens.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

-- The steps a pending login still has to take, and how the person has authenticated so far.
ALTER TABLE pending_logins ADD COLUMN second_factor_due BIGINT NOT NULL DEFAULT 1;
ALTER TABLE pending_logins ADD COLUMN new_password_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pending_logins ADD COLUMN enrolment_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pending_logins ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
