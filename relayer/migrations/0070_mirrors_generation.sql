-- Evidence Bridge relayer store: the generation of the mirrors list (issue 12).
--
-- Lookups need, for each source chain, the destinations it is mirrored on. That list
-- changes only when a route's first checkpoint is mirrored (a submission of a
-- (source, destination) pair becomes `confirmed` or `observed` for the first time:
-- those states are final, so a pair never leaves the list). The transaction that makes
-- such a first submission also increments `n` (relayer/src/store/mirrors.rs), so a
-- process may cache the list and check, in the same statement that uses it, that `n`
-- is still the value it cached the list at: every process sees a new mirror as soon
-- as it is committed, and never one that is not.
CREATE TABLE mirrors_generation (
    id BIGINT PRIMARY KEY,
    n  BIGINT NOT NULL
);
INSERT INTO mirrors_generation (id, n) VALUES (0, 0);
