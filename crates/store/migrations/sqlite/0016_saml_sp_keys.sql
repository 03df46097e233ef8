-- A SAML connection's own key pair (signs AuthnRequests, decrypts assertions): JSON
-- {"sealed": the PKCS#8 private key sealed under the master key, "certificate": base64 DER}.
-- NULL for connections made before keys existed: core makes one when first needed.
ALTER TABLE saml_connections ADD COLUMN sp_key TEXT;
ALTER TABLE saml_connections ADD COLUMN sign_requests INTEGER NOT NULL DEFAULT 0;
-- IdP-initiated sign-ins land on this product (a client ID); NULL: /account.
ALTER TABLE saml_connections ADD COLUMN landing_client TEXT;

-- Certificate-expiry notices already mailed to an organization's admins: one per
-- (connection, certificate), whichever node sends it first.
CREATE TABLE saml_expiry_notices (
    connection_id TEXT NOT NULL REFERENCES saml_connections (id) ON DELETE CASCADE,
    fingerprint   TEXT NOT NULL,
    sent_at       INTEGER NOT NULL,
    PRIMARY KEY (connection_id, fingerprint)
);
