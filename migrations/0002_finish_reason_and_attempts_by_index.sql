-- Record why the model stopped, and let per-index attempt histories be read without a scan.
ALTER TABLE results ADD COLUMN finish_reason TEXT;
CREATE INDEX attempts_by_idx ON attempts (idx);
