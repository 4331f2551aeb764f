-- Make opening a big ledger independent of its size: counting rows by state and finding
-- orphans used full scans (and a sort), and summing usage read every attempt.

-- In-flight and failed rows are few; these let counts, orphan release and retry find them at once.
CREATE INDEX items_in_flight ON items (idx) WHERE state = 'in_flight';
CREATE INDEX items_failed ON items (idx) WHERE state = 'failed';

-- Running totals over attempts that reached an outcome, kept in the same transaction as each attempt.
CREATE TABLE usage_totals (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    attempts          INTEGER NOT NULL,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost              REAL    NOT NULL
);
INSERT INTO usage_totals (id, attempts, prompt_tokens, completion_tokens, cost)
SELECT 1, COUNT(*), CAST(TOTAL(prompt_tokens) AS INTEGER), CAST(TOTAL(completion_tokens) AS INTEGER), TOTAL(cost)
FROM attempts WHERE outcome NOT IN ('abandoned', 'orphaned');
