-- How a verified domain was proven: 'dns_txt' or 'https_file' (NULL while not verified).
ALTER TABLE org_domains ADD COLUMN proof TEXT;
