-- The site console's account search: a prefix of the email (the UNIQUE index on
-- email_normalized serves it, BINARY collation is byte order) or of the name, lowercased.
CREATE INDEX accounts_name_prefix ON accounts (lower(name));
