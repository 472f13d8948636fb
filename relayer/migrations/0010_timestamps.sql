-- Evidence Bridge relayer store: RFC 3161 timestamps of accepted checkpoints (issue 15).
--
-- A token timestamps one checkpoint's EIP-712 signing hash for one destination (the
-- hash attestors sign, binding the destination chain and mirror); the message imprint
-- is SHA-256 of those 32 bytes. One row per (route, size, TSA), stored only after the
-- token was checked (status, imprint, nonce, signature, certificate chain).
CREATE TABLE timestamps (
    source_chain      TEXT   NOT NULL,
    destination_chain TEXT   NOT NULL,
    size              BIGINT NOT NULL,
    tsa               TEXT   NOT NULL,              -- operator's name of the TSA
    signing_hash      TEXT   NOT NULL,              -- the 32 bytes timestamped, 0x-hex
    token             TEXT   NOT NULL,              -- DER TimeStampToken, 0x-hex
    gen_time          BIGINT NOT NULL,              -- the token's genTime, unix seconds
    tsa_subject       TEXT   NOT NULL,              -- the TSA certificate's subject
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (source_chain, destination_chain, size, tsa),
    FOREIGN KEY (source_chain, size) REFERENCES checkpoints (chain, size)
);

-- Failed requests, for the retry backoff and for `bridge status`: one row per
-- (route, size, TSA) still without a token; deleted when a token is stored.
CREATE TABLE timestamp_failures (
    source_chain      TEXT   NOT NULL,
    destination_chain TEXT   NOT NULL,
    size              BIGINT NOT NULL,
    tsa               TEXT   NOT NULL,
    attempts          BIGINT NOT NULL,
    last_error        TEXT   NOT NULL,
    retry_at          BIGINT NOT NULL,              -- unix ms: not asked again before
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (source_chain, destination_chain, size, tsa)
);
