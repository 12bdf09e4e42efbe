-- What the pages need to version and lay out an image without reading it:
-- the content hash (gallery.ContentHash of the bytes: the ?v= of its URLs
-- and its ETag) and its upright pixel size. Rows stored before this have
-- '' and 0: Load fills the hash in from the bytes it reads; the size stays
-- unknown (0) until the key is uploaded again.
ALTER TABLE images ADD COLUMN hash TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN width INTEGER NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN height INTEGER NOT NULL DEFAULT 0;
