-- How the concurrency window moved and why, one row per change (`--concurrency auto` follows the
-- server's latency; a 429 storm halves any window). `status` shows the latest.
CREATE TABLE window_changes (
    id      INTEGER PRIMARY KEY,
    at_ms   INTEGER NOT NULL,
    size    INTEGER NOT NULL,
    reason  TEXT    NOT NULL  -- start, growth, latency, 429, timeout, overload
);
