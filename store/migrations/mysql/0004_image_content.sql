-- What the pages need to version and lay out an image without reading it:
-- the content hash (gallery.ContentHash of the bytes: the ?v= of its URLs
-- and its ETag) and its upright pixel size. Rows stored before this have
-- '' and 0: Load fills the hash in from the bytes it reads; the size stays
-- unknown (0) until the key is uploaded again.
-- One statement, so that it applies whole or not at all (MySQL's DDL
-- commits by itself; it has no ADD COLUMN IF NOT EXISTS to run again).
ALTER TABLE images
	ADD COLUMN hash VARCHAR(64) NOT NULL DEFAULT '',
	ADD COLUMN width INTEGER NOT NULL DEFAULT 0,
	ADD COLUMN height INTEGER NOT NULL DEFAULT 0;
