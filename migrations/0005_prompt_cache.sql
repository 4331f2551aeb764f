-- Prompt caching made visible: how many prompt tokens the provider served from its cache
-- (`usage.prompt_tokens_details.cached_tokens`) and what that saved (OpenRouter's `cache_discount`,
-- in the provider's credits; negative for a cache write that costs extra). NULL: not reported.
ALTER TABLE attempts ADD COLUMN cached_tokens INTEGER;
ALTER TABLE attempts ADD COLUMN cache_discount REAL;
ALTER TABLE usage_totals ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_totals ADD COLUMN cache_discount REAL NOT NULL DEFAULT 0;
