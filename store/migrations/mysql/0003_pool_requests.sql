-- configure_cache changes that a process following the pool (a gallery)
-- hands to the process that owns it (the manager): see store/requests.go.
-- Times are Unix milliseconds of the writer's clock. (MySQL runs DDL
-- outside transactions: the statement is safe to run again.)
CREATE TABLE IF NOT EXISTS pool_requests (
	id      BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
	body    LONGTEXT     NOT NULL,
	state   VARCHAR(16)  NOT NULL,
	owner   VARCHAR(64)  NOT NULL,
	created BIGINT       NOT NULL,
	expires BIGINT       NOT NULL,
	lease   BIGINT       NOT NULL,
	answer  LONGTEXT     NOT NULL,
	INDEX pool_requests_state (state, id),
	INDEX pool_requests_created (created)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
