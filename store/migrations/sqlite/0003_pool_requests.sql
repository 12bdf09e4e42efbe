-- configure_cache changes that a process following the pool (a gallery)
-- hands to the process that owns it (the manager): see store/requests.go.
-- Times are Unix milliseconds of the writer's clock.
CREATE TABLE IF NOT EXISTS pool_requests (
	id      INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	body    TEXT    NOT NULL,
	state   TEXT    NOT NULL,
	owner   TEXT    NOT NULL,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL,
	lease   INTEGER NOT NULL,
	answer  TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS pool_requests_state ON pool_requests (state, id);
CREATE INDEX IF NOT EXISTS pool_requests_created ON pool_requests (created);
