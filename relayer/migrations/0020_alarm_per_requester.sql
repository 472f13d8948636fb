-- Evidence Bridge relayer store: one root_mismatch alarm per (requester, checkpoint).
--
-- A proposal an attestor refused used to be one alarm row per claimed root, so a client
-- sending wrong roots in a loop added a row per request. From now on the fingerprint of
-- a root_mismatch alarm leaves the claimed root out (kind|source|destination|size|peer|)
-- and a repeat bumps `occurrences` (the row keeps the latest claimed root). This folds
-- the rows stored before into that shape: per (source, destination, size, peer), one row
-- with the summed count and the first and last sighting. (The sums are taken into a
-- scratch table first: SQLite's UPDATE would see its own earlier writes.)
CREATE TABLE alarm_fold AS
SELECT MIN(fingerprint) AS keep, SUM(occurrences) AS seen, MIN(first_seen) AS first_at,
       MAX(last_seen) AS last_at
FROM alarms
WHERE kind = 'root_mismatch'
GROUP BY source_chain, COALESCE(destination, ''), size, COALESCE(peer, '');

DELETE FROM alarms
WHERE kind = 'root_mismatch' AND fingerprint NOT IN (SELECT keep FROM alarm_fold);

UPDATE alarms SET
    occurrences = (SELECT seen FROM alarm_fold WHERE keep = alarms.fingerprint),
    first_seen = (SELECT first_at FROM alarm_fold WHERE keep = alarms.fingerprint),
    last_seen = (SELECT last_at FROM alarm_fold WHERE keep = alarms.fingerprint)
WHERE kind = 'root_mismatch';

UPDATE alarms
SET fingerprint = kind || '|' || source_chain || '|' || COALESCE(destination, '') || '|'
                  || CAST(size AS TEXT) || '|' || COALESCE(peer, '') || '|'
WHERE kind = 'root_mismatch';

DROP TABLE alarm_fold;
