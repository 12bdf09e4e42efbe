-- Images: one row per key, pointing at the blob that holds its bytes.
CREATE TABLE IF NOT EXISTS images (
	"key"        TEXT    NOT NULL PRIMARY KEY,
	object       TEXT    NOT NULL,
	content_type TEXT    NOT NULL,
	size         INTEGER NOT NULL,
	version      INTEGER NOT NULL,
	created      TIMESTAMP NOT NULL,
	updated      TIMESTAMP NOT NULL
);
CREATE INDEX IF NOT EXISTS images_updated ON images (updated);

-- The pool's routing table: a single row, changed by compare-and-swap on epoch.
CREATE TABLE IF NOT EXISTS pool_table (
	id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	epoch INTEGER NOT NULL,
	data  TEXT    NOT NULL
);

-- The pool's sizing settings: a single row of JSON.
CREATE TABLE IF NOT EXISTS settings (
	id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	data TEXT    NOT NULL
);

-- Cache nodes' 5-second samples; "time" is Unix microseconds (UTC).
CREATE TABLE IF NOT EXISTS metric_samples (
	id       INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	node     TEXT    NOT NULL,
	"time"   INTEGER NOT NULL,
	items    INTEGER NOT NULL,
	bytes    INTEGER NOT NULL,
	requests INTEGER NOT NULL,
	hits     INTEGER NOT NULL,
	misses   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_samples_time ON metric_samples ("time");
