-- MySQL runs DDL outside transactions: every statement here must be safe to
-- run again after a failure part-way.

-- Versions come from one sequence for the whole deployment, so a version
-- is never given twice (not even to a key deleted and uploaded again):
-- the cache's tombstones and the pages' cache validators rely on that.
-- It starts above every version already given.
CREATE TABLE IF NOT EXISTS version_seq (
	id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	value BIGINT  NOT NULL
) ENGINE=InnoDB;
INSERT INTO version_seq (id, value) SELECT 1, COALESCE(MAX(version), 0) FROM images
	ON DUPLICATE KEY UPDATE id = id;

-- The cache pool's fences: the generation (name '') and one fence per
-- node address. Raising one retires the cache entries written under the
-- old number (see cache.Fences). Rows are never deleted: a number must
-- never go back.
CREATE TABLE IF NOT EXISTS cache_fences (
	name  VARBINARY(255) NOT NULL PRIMARY KEY,
	value BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT INTO cache_fences (name, value) VALUES ('', 0) ON DUPLICATE KEY UPDATE name = name;
