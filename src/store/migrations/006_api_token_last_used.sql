-- When a token last authenticated a request, for `codebuddy token list`: an operator deciding
-- what to revoke wants to see which tokens are still in use. Written at most once a minute per token.
ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER;
