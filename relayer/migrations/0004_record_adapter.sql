-- Evidence Bridge relayer store, the adapter of each record.
--
-- Round-trip receipts (a mirror's CheckpointAccepted event indexed as a record of the
-- mirror's chain, adapter `bridge-receipts`) are logged like any record, but a log that
-- grew by receipts of receipts alone is not checkpointed (it would bounce between the
-- chains forever): the checkpoint stage needs to tell receipts from evidence, and to find
-- the checkpoint a receipt acknowledges by its source block hash.
--
-- Rows stored before this migration keep adapter '' (no receipt was indexed before it).
ALTER TABLE records ADD COLUMN adapter TEXT NOT NULL DEFAULT '';
CREATE INDEX records_by_adapter ON records (chain, adapter, leaf_index);
CREATE INDEX checkpoints_by_block_hash ON checkpoints (source_block_hash);
