-- Evidence Bridge relayer store, version 1.
--
-- Written to run unchanged on SQLite and PostgreSQL: every integer is BIGINT (bound as
-- i64), every hash/address/byte string is 0x-prefixed lowercase hex TEXT, booleans are
-- BIGINT 0/1, times are unix milliseconds.

-- One row per source chain: where indexing stands.
CREATE TABLE cursors (
    chain           TEXT   NOT NULL PRIMARY KEY,  -- CAIP-2 id
    name            TEXT   NOT NULL,              -- operator's name for the chain
    start_block     BIGINT NOT NULL,
    next_block      BIGINT NOT NULL,              -- first block not fetched yet
    confirmed_next  BIGINT NOT NULL,              -- first block not yet confirmed into the log
    next_seq        BIGINT,                       -- next source sequence number expected
    log_size        BIGINT NOT NULL DEFAULT 0,
    confirmed_block BIGINT,                       -- block the log is built up to
    confirmed_hash  TEXT,
    head_block      BIGINT,                       -- last head seen
    halted_reason   TEXT,                         -- set when a deep reorg halts the chain
    updated_at      BIGINT NOT NULL
);

-- Hashes of indexed blocks: a recent window, plus every block that produced records.
CREATE TABLE blocks (
    chain       TEXT   NOT NULL REFERENCES cursors (chain),
    number      BIGINT NOT NULL,
    hash        TEXT   NOT NULL,
    has_records BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (chain, number)
);

-- Normalized records; leaf_index is set once the record's block is confirmed.
CREATE TABLE records (
    record_id    TEXT   NOT NULL PRIMARY KEY,
    chain        TEXT   NOT NULL REFERENCES cursors (chain),
    leaf_index   BIGINT,
    status       TEXT   NOT NULL,                 -- pending | logged
    block_number BIGINT NOT NULL,
    block_hash   TEXT   NOT NULL,
    tx_index     BIGINT NOT NULL,
    log_index    BIGINT NOT NULL,
    seq          BIGINT,
    action       TEXT   NOT NULL,                 -- anchor | revoke
    ref_id       TEXT,
    digest       TEXT   NOT NULL,
    digest_alg   TEXT   NOT NULL,
    submitter    TEXT   NOT NULL,
    invalid_ref  BIGINT NOT NULL DEFAULT 0,       -- a revoke whose ref is not a valid anchor
    record       TEXT   NOT NULL,                 -- the record as JSON
    created_at   BIGINT NOT NULL,
    UNIQUE (chain, leaf_index)
);
CREATE INDEX records_by_digest ON records (digest);
CREATE INDEX records_by_ref ON records (ref_id);
CREATE INDEX records_by_status ON records (chain, status, block_number);

-- Checkpoints this instance computed from its own log.
CREATE TABLE checkpoints (
    chain               TEXT   NOT NULL REFERENCES cursors (chain),
    size                BIGINT NOT NULL,
    root                TEXT   NOT NULL,
    source_block_number BIGINT NOT NULL,
    source_block_hash   TEXT   NOT NULL,
    created_at          BIGINT NOT NULL,
    PRIMARY KEY (chain, size)
);

-- Attestor signatures over a checkpoint, per destination (chain + mirror = EIP-712 domain).
CREATE TABLE signatures (
    chain       TEXT   NOT NULL,
    size        BIGINT NOT NULL,
    destination TEXT   NOT NULL,
    mirror      TEXT   NOT NULL,
    attestor    TEXT   NOT NULL,
    signature   TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (chain, size, destination, mirror, attestor),
    FOREIGN KEY (chain, size) REFERENCES checkpoints (chain, size)
);

-- Submissions of a checkpoint to a destination mirror: one row per (route, size).
-- state: prepared | sent | confirmed | failed | superseded | observed
CREATE TABLE submissions (
    source_chain             TEXT   NOT NULL,
    destination_chain        TEXT   NOT NULL,
    size                     BIGINT NOT NULL,
    state                    TEXT   NOT NULL,
    tx_hash                  TEXT,
    raw_tx                   TEXT,
    nonce                    BIGINT,
    max_fee_per_gas          TEXT,                -- decimal wei (u128 does not fit BIGINT)
    max_priority_fee_per_gas TEXT,
    prior_tx_hashes          TEXT   NOT NULL DEFAULT '',  -- comma-separated, replaced txs
    payload                  TEXT,                -- JSON: signed checkpoint + consistency proof
    attempts                 BIGINT NOT NULL DEFAULT 0,
    last_error               TEXT,
    mined_block              BIGINT,
    sent_at                  BIGINT,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL,
    PRIMARY KEY (source_chain, destination_chain, size),
    FOREIGN KEY (source_chain, size) REFERENCES checkpoints (chain, size)
);
-- Never two live submissions for one route.
CREATE UNIQUE INDEX submissions_one_live ON submissions (source_chain, destination_chain)
    WHERE state IN ('prepared', 'sent');

-- Events an adapter could not turn into records.
CREATE TABLE quarantine (
    chain        TEXT   NOT NULL REFERENCES cursors (chain),
    block_number BIGINT NOT NULL,
    block_hash   TEXT   NOT NULL,
    tx_hash      TEXT   NOT NULL,
    log_index    BIGINT NOT NULL,
    adapter      TEXT   NOT NULL,
    reason       TEXT   NOT NULL,
    raw          TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (chain, block_hash, tx_hash, log_index)
);
