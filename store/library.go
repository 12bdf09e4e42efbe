package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/picpool/picpool/gallery"

	"github.com/picpool/picpool/store/internal/sqlconn"
)

// MaxKeyLen is the longest key, in characters (Unicode code points).
const MaxKeyLen = 250

// ErrInvalidKey is returned (wrapped) for a key that the database cannot
// hold exactly: empty, longer than MaxKeyLen characters, not UTF-8, or
// holding a NUL. The gallery validates keys more strictly before this.
var ErrInvalidKey = fmt.Errorf("store: invalid key: %w", gallery.ErrInvalid)

// imageRow is a gallery.Image as the images table holds it.
type imageRow struct {
	bun.BaseModel `bun:"table:images"`

	Key         string    `bun:"key,pk"`
	Object      string    `bun:"object,notnull"`
	ContentType string    `bun:"content_type,notnull"`
	Size        int64     `bun:"size,notnull"`
	Version     int64     `bun:"version,notnull"`
	Created     time.Time `bun:"created,notnull"`
	Updated     time.Time `bun:"updated,notnull"`
	Hash        string    `bun:"hash,notnull"`
	Width       int       `bun:"width,notnull"`
	Height      int       `bun:"height,notnull"`
}

func (r imageRow) image() gallery.Image {
	return gallery.Image{
		Key: r.Key, Object: r.Object, ContentType: r.ContentType,
		Size: r.Size, Version: r.Version,
		Created: r.Created.UTC(), Updated: r.Updated.UTC(),
		Hash: r.Hash, Width: r.Width, Height: r.Height,
	}
}

// Library keeps images: rows in the database and bytes in the blob store,
// changed together in an order that never leaves a row pointing at a
// missing blob.
type Library struct {
	db    *DB
	blobs Blobs
	log   *slog.Logger
	now   func() time.Time
}

// NewLibrary returns a library on db and blobs.
func NewLibrary(db *DB, blobs Blobs, log *slog.Logger) *Library {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Library{db: db, blobs: blobs, log: log, now: time.Now}
}

// cleanupTimeout bounds the steps that run after the caller's context may
// be gone: removing a failed upload's blob, invalidating and removing the
// replaced blob after a commit.
const cleanupTimeout = 30 * time.Second

// checkKey says why the database could not hold key exactly, or nil.
func checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not UTF-8", ErrInvalidKey)
	case strings.IndexByte(key, 0) >= 0:
		return fmt.Errorf("%w: holds a NUL character", ErrInvalidKey)
	case utf8.RuneCountInString(key) > MaxKeyLen:
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidKey, MaxKeyLen)
	}
	return nil
}

// Put stores data as the new image of key, and returns its row.
//
// The order is what keeps the old image readable whatever fails: the bytes
// go to a fresh blob first; then, in one transaction, the row is created
// or moved to the new blob with the deployment's next version; last the
// old blob is deleted (a reader that read the old row before the commit
// then finds the new one: see Load). If the blob write or the transaction
// fails, the new blob is deleted and the row is as it was. Once the row is
// committed Put succeeds, even if the caller has gone: an error deleting
// the old blob (which leaves a harmless orphan) is logged. Concurrent Puts
// of one key each get their own version, and the row ends at the highest.
// The caller invalidates the cache afterwards.
// The row keeps c and the bytes' gallery.ContentHash.
func (l *Library) Put(ctx context.Context, key string, c gallery.Content, data []byte) (gallery.Image, error) {
	contentType := c.Type
	if err := checkKey(key); err != nil {
		return gallery.Image{}, fmt.Errorf("store: put image %q: %w", key, err)
	}
	object := newObjectName(contentType)
	if err := l.blobs.Put(ctx, object, contentType, data); err != nil {
		// A store may keep part of a failed write (an S3 server that
		// failed after storing): remove whatever is there.
		l.deleteBlob(ctx, object, "failed upload")
		return gallery.Image{}, fmt.Errorf("store: put image %q: %w", key, err)
	}
	now := l.now().UTC().Truncate(time.Microsecond) // what every database keeps
	row := imageRow{
		Key: key, Object: object, ContentType: contentType, Size: int64(len(data)),
		Created: now, Updated: now,
		Hash: gallery.ContentHash(data), Width: c.Width, Height: c.Height,
	}
	old, err := l.db.upsertImage(ctx, &row)
	if err != nil {
		var ce errCommit
		if errors.As(err, &ce) {
			// The row may have been committed before the connection
			// failed: keep the blob it may point at.
			l.log.Warn("upload's commit failed: its outcome is unknown, its blob is kept",
				"key", key, "object", object, "err", err)
			return gallery.Image{}, fmt.Errorf("store: put image %q: save row in %s: %w", key, l.db, err) // wraps ErrOutcomeUnknown
		}
		l.deleteBlob(ctx, object, "failed upload")
		return gallery.Image{}, fmt.Errorf("store: put image %q: save row in %s: %w", key, l.db, err)
	}
	if old != "" {
		l.deleteBlob(ctx, old, "replaced")
	}
	return row.image(), nil
}

// deleteBlob deletes a blob that no row points at; a failure leaves an
// orphan blob, which is harmless, so it is logged.
func (l *Library) deleteBlob(ctx context.Context, object, why string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := l.blobs.Delete(ctx, object); err != nil {
		l.log.Warn("could not delete a blob no row points at", "object", object, "why", why, "err", err)
	}
}

// upsertImage stores row as key's row in one transaction: a new key gets
// row as it is; an existing key gets row's object, content type, size and
// update time, its created time kept. Either way the row takes the next
// version of the deployment's sequence, written back into row. It returns
// the object the row pointed at before ("" for a new key).
func (db *DB) upsertImage(ctx context.Context, row *imageRow) (old string, err error) {
	err = db.inTx(ctx, func(tx bun.Tx) error {
		old = ""
		row.Created = row.Updated
		version, err := db.nextVersion(ctx, tx)
		if err != nil {
			return err
		}
		row.Version = version
		// Insert if absent. When the key exists, this changes nothing
		// but waits for (PostgreSQL) or takes (MySQL) the row's lock, so
		// that concurrent uploads of one key queue here.
		if _, err := db.insertIgnore(tx.NewInsert().Model(row), "key").Exec(ctx); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		cur := imageRow{Key: row.Key}
		q := tx.NewSelect().Model(&cur).WherePK()
		if db.conn.Kind != sqlconn.SQLite { // SQLite's transaction already holds the write lock
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("read back: %w", err)
		}
		if cur.Object == row.Object {
			return nil // inserted: object names are never reused
		}
		old = cur.Object
		row.Created = cur.Created
		if _, err := tx.NewUpdate().Model(row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		return nil
	})
	return old, err
}

// Stat returns key's row, or an error wrapping ErrNotFound.
func (l *Library) Stat(ctx context.Context, key string) (gallery.Image, error) {
	ctx, cancel := l.db.opContext(ctx)
	defer cancel()
	row := imageRow{Key: key}
	if err := l.db.bun.NewSelect().Model(&row).WherePK().Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return gallery.Image{}, fmt.Errorf("store: image %q: %w", key, ErrNotFound)
		}
		return gallery.Image{}, fmt.Errorf("store: stat image %q: %w", key, l.db.conn.Scrub(err))
	}
	return row.image(), nil
}

// Load returns key's row and bytes, or an error wrapping ErrNotFound when
// the key has no image.
func (l *Library) Load(ctx context.Context, key string) (gallery.Image, []byte, error) {
	// A concurrent Put may replace the row and delete its old blob between
	// reading the row and reading the blob: then the row has moved on, and
	// reading it again finds the new blob. Only a row that stays put while
	// its blob is missing has lost its bytes.
	const attempts = 10
	var prev string
	for range attempts {
		img, err := l.Stat(ctx, key)
		if err != nil {
			return gallery.Image{}, nil, err
		}
		if img.Object == prev {
			// Not ErrNotFound: the key exists, and its bytes are lost.
			return gallery.Image{}, nil, fmt.Errorf("store: load image %q: its blob %s is missing from the blob store", key, prev)
		}
		data, err := l.blobs.Get(ctx, img.Object)
		if err == nil {
			if img.Hash == "" {
				img.Hash = l.fillHash(ctx, img, data)
			}
			return img, data, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return gallery.Image{}, nil, fmt.Errorf("store: load image %q: %w", key, err)
		}
		prev = img.Object
	}
	return gallery.Image{}, nil, fmt.Errorf("store: load image %q: replaced %d times while loading it", key, attempts)
}

// fillHash computes the content hash of a row stored before hashes were
// kept, and saves it if the row still points at the same blob. A failure
// to save is logged: the next Load computes it again.
func (l *Library) fillHash(ctx context.Context, img gallery.Image, data []byte) string {
	hash := gallery.ContentHash(data)
	ctx, cancel := l.db.opContext(ctx)
	defer cancel()
	_, err := l.db.bun.NewUpdate().Model((*imageRow)(nil)).Set("? = ?", bun.Ident("hash"), hash).
		Where("? = ? AND ? = ?", bun.Ident("key"), img.Key, bun.Ident("object"), img.Object).Exec(ctx)
	if err != nil {
		l.log.Warn("could not save the content hash of an image stored before hashes were kept", "key", img.Key, "err", l.db.conn.Scrub(err))
	}
	return hash
}

// noLimit stands for "all rows" where OFFSET needs a LIMIT (MySQL, SQLite).
const noLimit = 1 << 53

// List returns a page of images, newest first (latest upload first, then
// by key), and how many images match the prefix in all.
func (l *Library) List(ctx context.Context, o gallery.ListOptions) ([]gallery.Image, int, error) {
	if !utf8.ValidString(o.Prefix) || strings.IndexByte(o.Prefix, 0) >= 0 {
		// Keys are UTF-8 text without NUL: none starts with this prefix
		// (and the databases would reject or mangle it).
		return []gallery.Image{}, 0, nil
	}
	ctx, cancel := l.db.opContext(ctx)
	defer cancel()
	var rows []imageRow
	q := l.db.bun.NewSelect().Model(&rows)
	if o.Prefix != "" {
		q = q.Where("? LIKE ? ESCAPE '!'", bun.Ident("key"), likePrefix(o.Prefix))
	}
	total, err := q.Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list images: count: %w", l.db.conn.Scrub(err))
	}
	limit := int64(o.Limit)
	if limit <= 0 {
		limit = noLimit
	}
	err = q.OrderExpr("? DESC, ? ASC", bun.Ident("updated"), bun.Ident("key")).
		Limit(limit).Offset(int64(max(o.Offset, 0))).Scan(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list images: %w", l.db.conn.Scrub(err))
	}
	images := make([]gallery.Image, len(rows))
	for i, r := range rows {
		images[i] = r.image()
	}
	return images, int(total), nil
}

// likePrefix returns the LIKE pattern matching strings that start with p.
// The escape character is '!', not a backslash, because backslashes in
// string literals mean different things to MySQL and the others.
func likePrefix(p string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(p) + "%"
}

// Keys returns every key, newest first.
func (l *Library) Keys(ctx context.Context) ([]string, error) {
	ctx, cancel := l.db.opContext(ctx)
	defer cancel()
	keys := []string{}
	err := l.db.bun.NewSelect().Model((*imageRow)(nil)).Column("key").
		OrderExpr("? DESC, ? ASC", bun.Ident("updated"), bun.Ident("key")).
		Scan(ctx, &keys)
	if err != nil {
		return nil, fmt.Errorf("store: list keys: %w", l.db.conn.Scrub(err))
	}
	return keys, nil
}

// DeleteAll deletes every image. In one transaction it deletes every row
// and raises the cache pool's generation, so that no cache entry of a
// deleted image can be read again (see pool.Fences; the caller then waits
// for every process to route by it, with pool.Pool.Purge). After the
// commit it deletes the blobs those rows pointed at, and only those: an
// upload in another process whose blob is written but whose row is not
// yet committed keeps its blob, so an upload acknowledged after DeleteAll
// stays readable. A blob that cannot be deleted is an orphan, logged.
func (l *Library) DeleteAll(ctx context.Context) error {
	var objects []string
	err := l.db.inTx(ctx, func(tx bun.Tx) error {
		objects = objects[:0]
		if err := tx.NewSelect().Model((*imageRow)(nil)).Column("object").Scan(ctx, &objects); err != nil {
			return fmt.Errorf("list blobs: %w", err)
		}
		if _, err := tx.NewDelete().Model((*imageRow)(nil)).Where("1 = 1").Exec(ctx); err != nil {
			return fmt.Errorf("delete rows: %w", err)
		}
		if err := l.db.raise(ctx, tx, generationRow); err != nil {
			return fmt.Errorf("raise the cache generation: %w", err)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrOutcomeUnknown) {
			return fmt.Errorf("store: delete all images: %w", err)
		}
		return fmt.Errorf("store: delete all images: nothing was deleted: %w", err)
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := l.blobs.DeleteMany(bctx, objects); err != nil {
		l.log.Warn("every image was deleted, but some of their blobs were not; they are orphans", "images", len(objects), "err", err)
	}
	l.log.Info("deleted every image", "images", len(objects))
	return nil
}
