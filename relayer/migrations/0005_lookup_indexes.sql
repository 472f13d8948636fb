-- Evidence Bridge relayer store: indexes for the lookup API (issue 6).
--
-- Without them a lookup could scan a chain's whole log: "is this record revoked?"
-- (`ref_id = ? AND chain = ? … ORDER BY leaf_index LIMIT 1`) had only `records_by_ref
-- (ref_id)`, and SQLite preferred the `(chain, leaf_index)` key, which gives the order
-- for free but visits every record of the chain (~100 ms per lookup at 1 M records).
-- Each index below answers its query with equality on every column it filters on, in
-- the order the query wants.

-- Revokes by the record they revoke, per chain, in leaf order. Only revokes have a
-- `ref_id`: the partial index leaves the anchors (almost every row) out, so it costs
-- the writer nearly nothing. `ref_id = x` implies `ref_id IS NOT NULL` on SQLite and
-- PostgreSQL, so both planners use it.
DROP INDEX records_by_ref;
CREATE INDEX records_by_ref ON records (ref_id, chain, leaf_index) WHERE ref_id IS NOT NULL;

-- Records by digest, per chain, in source order: the lookup's own order and the
-- round-trip receipt's (`digest = ? AND chain = ? ORDER BY block_number, …`).
DROP INDEX records_by_digest;
CREATE INDEX records_by_digest ON records (digest, chain, block_number, tx_index, log_index);
