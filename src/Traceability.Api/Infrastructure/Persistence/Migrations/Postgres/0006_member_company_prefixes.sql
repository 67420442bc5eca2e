ALTER TABLE members ADD COLUMN company_prefixes TEXT NOT NULL DEFAULT '';
