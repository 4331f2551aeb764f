-- Provider Batch API submissions (`--mode batch`). A row in a submitted batch is in flight with
-- lease_owner 'submission:<id>': resume never takes it back as an orphan, and never sends it
-- again while its batch lives. A submission is written (with its rows) before anything is sent;
-- its idempotency key is '<run_id>.<id>', so a create whose answer was lost is asked again
-- without a second batch.
CREATE TABLE submissions (
    id             INTEGER PRIMARY KEY,
    api            TEXT    NOT NULL,  -- openrouter, openai
    batch_id       TEXT,              -- the provider's id, once its create answered
    status         TEXT    NOT NULL,  -- submitting, then the provider's; collected once its rows are written
    rows           INTEGER NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    error          TEXT,
    cost           REAL,              -- what its answers cost, once collected
    online_cost    REAL               -- what the same answers would have cost online
);
CREATE INDEX submissions_open ON submissions (id) WHERE status <> 'collected';
CREATE INDEX items_leased ON items (lease_owner) WHERE state = 'in_flight';
