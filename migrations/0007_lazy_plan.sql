-- A large plan is written as the run needs it, not all up front: `planned_rows` stays the plan
-- (indices 0..<N, or a shard's share), and rows from index `unplanned_from` on exist in `items`
-- only once a claim reaches them (`LazyPlan`). NULL: every planned row is in `items`. Until
-- then they count as pending everywhere. (A batch older than this schema cannot open such a
-- ledger, which is why this is a migration and not only a column.)
ALTER TABLE run ADD COLUMN unplanned_from INTEGER;
