-- Evidence Bridge relayer store: records without their JSON copy (issue 12).
--
-- Until now each row of `records` held, besides its columns, the whole record as JSON
-- (`record`, ~700 bytes of hex text per row), which lookups parsed back. The fields the
-- columns lacked get columns of their own, and rows written from now on store '' in
-- `record`: the store rebuilds the record from the columns (and checks that it hashes
-- to the row's `record_id`). Rows written before keep their JSON and are read from it,
-- so every existing store stays readable without rewriting its rows.
ALTER TABLE records ADD COLUMN contract TEXT;
ALTER TABLE records ADD COLUMN tx_hash TEXT;
ALTER TABLE records ADD COLUMN block_time BIGINT;
ALTER TABLE records ADD COLUMN kind TEXT;
ALTER TABLE records ADD COLUMN metadata TEXT;

-- Round-trip receipts are a few rows per checkpoint; every other record is evidence.
-- `records_by_adapter (chain, adapter, leaf_index)` held every row to find those few:
-- a partial index of the receipts alone answers the same queries (the queries name the
-- adapter as a literal, so both planners can use it) and costs the writer nothing for
-- evidence.
DROP INDEX records_by_adapter;
CREATE INDEX records_receipts ON records (chain, leaf_index) WHERE adapter = 'bridge-receipts';
