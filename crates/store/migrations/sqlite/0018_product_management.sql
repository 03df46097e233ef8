-- Products managed from the console: a logo shown on the consent screen and on the account
-- page, and a switch that suspends a product (its tokens stop working, nobody signs in to it)
-- without deleting it.
ALTER TABLE clients ADD COLUMN logo_uri TEXT;
ALTER TABLE clients ADD COLUMN disabled_at INTEGER;
-- A product's grants and consents, counted before it is deleted and removed with it.
CREATE INDEX grants_client ON grants (client_id);
CREATE INDEX consents_client ON consents (client_id);
