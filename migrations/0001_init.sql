-- The ledger of one run (or one shard of a run): the run's recipe snapshot, one row per index,
-- the result of every finished index and an audit trail of every HTTP attempt.
-- Times are integer milliseconds since the Unix epoch.

PRAGMA application_id = 1112818504; -- "BTCH": marks the file as a batch ledger

CREATE TABLE run (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    run_id          TEXT    NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    planned_rows    INTEGER NOT NULL,   -- N: the run covers indices 0..<N (a shard plans a subset)
    shard_index     INTEGER,            -- K of --shard K/N, NULL when unsharded
    shard_count     INTEGER,
    recipe_sha256   TEXT    NOT NULL,
    recipe_snapshot TEXT    NOT NULL,   -- the recipe and knowledge text; never a secret
    config          TEXT    NOT NULL    -- model, limits, base URL as JSON; never a secret
);

CREATE TABLE items (
    idx             INTEGER PRIMARY KEY,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'in_flight', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,  -- attempts that reached an outcome, plus one while in flight
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,  -- a pending row is due once now >= this
    lease_owner     TEXT,                        -- who holds an in-flight row (pid and session)
    last_error      TEXT,
    updated_at_ms   INTEGER NOT NULL DEFAULT 0
);

-- Claims scan pending rows in index order; without this index they slow from thousands to
-- tens per second late in a million-row run.
CREATE INDEX items_pending ON items (idx) WHERE state = 'pending';

CREATE TABLE results (
    idx               INTEGER PRIMARY KEY REFERENCES items (idx),
    line              TEXT    NOT NULL,  -- the conversation exactly as exported (json.dumps(messages))
    topic             TEXT,
    persona           TEXT,
    dynamic           TEXT,
    model             TEXT,
    generation_id     TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    cost              REAL,
    latency_ms        INTEGER,
    finished_at_ms    INTEGER NOT NULL
);

CREATE TABLE attempts (
    id                INTEGER PRIMARY KEY,
    idx               INTEGER NOT NULL,
    attempt           INTEGER NOT NULL,
    started_at_ms     INTEGER NOT NULL,
    ended_at_ms       INTEGER NOT NULL,
    outcome           TEXT    NOT NULL,  -- done, retry, failed, abandoned, orphaned
    error_kind        TEXT,
    http_status       INTEGER,
    error             TEXT,
    retry_after_ms    INTEGER,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    cost              REAL
);
