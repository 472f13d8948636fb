-- Evidence Bridge relayer store: a submission's transaction as an opaque payload.
--
-- The relayer no longer knows a chain family's transaction fields: a prepared
-- submission is an id (for EVM the transaction hash, still in `tx_hash`), a payload
-- only the destination's submitter reads (`tx_payload`, 0x-hex; for EVM a versioned
-- encoding of the raw signed transaction with its nonce and fees) and a line for logs
-- (`tx_summary`). New rows fill these and leave `raw_tx`, `nonce`,
-- `max_fee_per_gas` and `max_priority_fee_per_gas` NULL.
--
-- Rows written before this migration keep their EVM columns and a NULL `tx_payload`;
-- the store reads them as before (it builds their EVM payload from those columns), so
-- a submission live across the upgrade is re-broadcast, polled and replaced exactly
-- as it would have been. No row is rewritten and no data is dropped.
ALTER TABLE submissions ADD COLUMN tx_payload TEXT;
ALTER TABLE submissions ADD COLUMN tx_summary TEXT;
