-- Evidence Bridge relayer store: the logs as stored tiles (issue 12).
--
-- Each source chain's RFC 6962 tree is stored as C2SP tlog-tiles: a tile (level L,
-- index N) holds up to 256 consecutive hashes of tree level 8·L, concatenated (32
-- bytes each; level 0 = leaf hashes). The levels in between are recomputed from a
-- tile's row. Tiles are written in the same transaction as the records they cover.
--
-- `cursors.tiled_size` is the number of leaves the tiles cover. A store that predates
-- this migration starts at 0 with its records already logged: `bridge run` builds the
-- missing tiles in a resumable pass (a chunk per transaction) before it indexes on.
CREATE TABLE log_tiles (
    chain  TEXT   NOT NULL,
    level  BIGINT NOT NULL,
    idx    BIGINT NOT NULL,
    hashes BYTEA  NOT NULL,
    PRIMARY KEY (chain, level, idx)
);
ALTER TABLE cursors ADD COLUMN tiled_size BIGINT NOT NULL DEFAULT 0;
