-- Leases: which instance does which work when several share one database.
--
-- name: `chain:<caip2>` (indexing, logging, checkpointing and attesting of a source
-- chain) or `submit:<caip2>` (every submission into a destination chain).
-- epoch: the fencing token, bumped whenever the holder changes; fenced writes check
-- (name, holder, epoch) in their own transaction. Times are unix milliseconds.
-- Portable: the acquire is an `INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING`,
-- which SQLite (3.35+) and PostgreSQL both run.
CREATE TABLE leases (
    name        TEXT   NOT NULL PRIMARY KEY,
    holder      TEXT   NOT NULL,
    epoch       BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    acquired_at BIGINT NOT NULL,
    renewed_at  BIGINT NOT NULL
);
