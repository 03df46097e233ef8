-- The site console's account search: a prefix of the email or of the name (lowercased), as
-- byte-order ranges, so the indexes use the "C" collation (the database's default collation
-- may not order "starts with" together).
CREATE INDEX accounts_email_prefix ON accounts (email_normalized COLLATE "C");
CREATE INDEX accounts_name_prefix ON accounts ((lower(name)) COLLATE "C");
