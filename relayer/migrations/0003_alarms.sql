-- Evidence Bridge relayer store, alarms.
--
-- An alarm is evidence that someone is lying or a node is wrong: an attestor's own log
-- disagrees with a proposed checkpoint, a mirror accepted a root our log does not
-- have, or a remote attestor returned a signature that does not check. One row per
-- distinct finding (`fingerprint`); seeing it again bumps `occurrences`.
CREATE TABLE alarms (
    fingerprint  TEXT   NOT NULL PRIMARY KEY,    -- kind|source|destination|size|peer|their root
    kind         TEXT   NOT NULL,                -- root_mismatch | mirror_diverged | bad_signature | attestor_disagrees
    source_chain TEXT   NOT NULL,                -- CAIP-2 id of the log concerned
    destination  TEXT,                           -- CAIP-2 id of the destination, when one is concerned
    size         BIGINT NOT NULL,                -- checkpoint size concerned
    peer         TEXT,                           -- attestor URL and/or address, mirror address
    our_root     TEXT,                           -- root of our own log at `size` (when we have it)
    their_root   TEXT,                           -- the root someone else claimed
    message      TEXT   NOT NULL,
    occurrences  BIGINT NOT NULL DEFAULT 1,
    first_seen   BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL
);
CREATE INDEX alarms_by_source ON alarms (source_chain, last_seen);
