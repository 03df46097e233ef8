-- Indexes found missing by the query-plan check of the hot statements (issue 17). Expand only.

-- Every node reloads the unexpired revoked access tokens each second; housekeeping purges the
-- expired ones.
CREATE INDEX revoked_access_tokens_expiry ON revoked_access_tokens (expires_at);

-- The console's account list filtered by status, in the order accounts were made.
CREATE INDEX accounts_status_created ON accounts (status, created_at, id);

-- The audit page's event-type picker, newest first.
CREATE INDEX audit_events_event ON audit_events (event, seq);
