-- How many records of each kind each user has, kept by triggers on `memories` whichever statement changes it, so
-- that an add past MEMORY_MAX_RECORDS_PER_USER learns it without counting: 0015's trim walked the kind's index up
-- to the whole limit on every add (47 us a turn at the default 1,000). A count that reaches 0 stays as a row.
CREATE TABLE memory_counts (
    user_id TEXT NOT NULL,
    kind    TEXT NOT NULL,
    records INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;
INSERT INTO memory_counts (user_id, kind, records)
    SELECT user_id, kind, count(*) FROM memories GROUP BY user_id, kind;
CREATE TRIGGER memory_counts_after_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memory_counts (user_id, kind, records) VALUES (new.user_id, new.kind, 1)
        ON CONFLICT (user_id, kind) DO UPDATE SET records = records + 1;
END;
CREATE TRIGGER memory_counts_after_delete AFTER DELETE ON memories BEGIN
    UPDATE memory_counts SET records = records - 1 WHERE user_id = old.user_id AND kind = old.kind;
END;
CREATE TRIGGER memory_counts_after_update AFTER UPDATE OF user_id, kind ON memories BEGIN
    UPDATE memory_counts SET records = records - 1 WHERE user_id = old.user_id AND kind = old.kind;
    INSERT INTO memory_counts (user_id, kind, records) VALUES (new.user_id, new.kind, 1)
        ON CONFLICT (user_id, kind) DO UPDATE SET records = records + 1;
END;
