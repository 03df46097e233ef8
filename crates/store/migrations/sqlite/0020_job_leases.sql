-- Leases of periodic jobs: each job's rounds run on the node holding its lease (several nodes
-- on one database run housekeeping once, not once each).
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
