-- A signed document is found by its eventsRoot: a document appended in parts (a proceed capture job: one capture per
-- event) or sent again reuses the row its first capture wrote instead of writing one per capture.
CREATE INDEX ix_signed_documents_root ON signed_documents (events_root);
