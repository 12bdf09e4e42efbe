-- MySQL runs DDL outside transactions: every statement here must be safe to
-- run again after a failure part-way (IF NOT EXISTS, indexes inside CREATE).

-- Images: one row per key, pointing at the blob that holds its bytes.
-- The key is VARBINARY (1000 bytes = 250 four-byte characters): compared
-- byte by byte, so "Cat" and "cat" are different keys and so are "cat" and
-- "cat " (utf8mb4_bin is a PAD SPACE collation that ignores trailing
-- spaces), and any Unicode, emoji included, round-trips.
CREATE TABLE IF NOT EXISTS images (
	`key`        VARBINARY(1000) NOT NULL PRIMARY KEY,
	object       VARCHAR(255) NOT NULL,
	content_type VARCHAR(255) NOT NULL,
	size         BIGINT       NOT NULL,
	version      BIGINT       NOT NULL,
	created      DATETIME(6)  NOT NULL,
	updated      DATETIME(6)  NOT NULL,
	INDEX images_updated (updated)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The pool's routing table: a single row, changed by compare-and-swap on epoch.
CREATE TABLE IF NOT EXISTS pool_table (
	id    INTEGER  NOT NULL PRIMARY KEY CHECK (id = 1),
	epoch BIGINT   NOT NULL,
	data  LONGTEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The pool's sizing settings: a single row of JSON.
CREATE TABLE IF NOT EXISTS settings (
	id   INTEGER  NOT NULL PRIMARY KEY CHECK (id = 1),
	data LONGTEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Cache nodes' 5-second samples; `time` is Unix microseconds (UTC).
CREATE TABLE IF NOT EXISTS metric_samples (
	id       BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
	node     VARCHAR(255) NOT NULL,
	`time`   BIGINT       NOT NULL,
	items    BIGINT       NOT NULL,
	bytes    BIGINT       NOT NULL,
	requests BIGINT       NOT NULL,
	hits     BIGINT       NOT NULL,
	misses   BIGINT       NOT NULL,
	INDEX metric_samples_time (`time`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
