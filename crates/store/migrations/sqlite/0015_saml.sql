-- SAML single sign-on: an organization's connections to its identity providers, each bound to
-- some of its verified domains.
CREATE TABLE saml_connections (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    preset        TEXT NOT NULL,
    idp_entity_id TEXT NOT NULL,
    sso_url       TEXT NOT NULL,
    -- JSON array of base64 DER certificates (at least one: enforced by core).
    certificates  TEXT NOT NULL,
    -- JSON: attribute names for email (null: the NameID), given/family/display name, groups.
    mapping       TEXT NOT NULL,
    jit           INTEGER NOT NULL,
    allow_idp_initiated INTEGER NOT NULL,
    allow_sha1    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX saml_connections_org ON saml_connections (org_id);

-- One domain, one connection.
CREATE TABLE saml_connection_domains (
    domain        TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES saml_connections (id) ON DELETE CASCADE
);
CREATE INDEX saml_connection_domains_connection ON saml_connection_domains (connection_id);

-- SP-initiated logins in flight: the RelayState's SHA-256, the AuthnRequest ID it must be
-- answered with, and where the person goes afterwards. Taken once.
CREATE TABLE saml_requests (
    relay_hash    TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES saml_connections (id) ON DELETE CASCADE,
    request_id    TEXT NOT NULL,
    next          TEXT NOT NULL,
    test          INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX saml_requests_expiry ON saml_requests (expires_at);

-- Assertion IDs seen, kept until the assertion could no longer be replayed (all nodes share it).
CREATE TABLE saml_replay (
    connection_id TEXT NOT NULL,
    assertion_id  TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    PRIMARY KEY (connection_id, assertion_id)
);
CREATE INDEX saml_replay_expiry ON saml_replay (expires_at);

-- Identities at outside identity providers (SAML now, upstream OpenID later), linked to one
-- account each: (provider, subject) is the key.
CREATE TABLE external_identities (
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX external_identities_account ON external_identities (account_id);
