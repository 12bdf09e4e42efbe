package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/picpool/picpool/store/internal/sqlconn"
)

// MaxKeyLen is the longest key, in characters (Unicode code points).
const MaxKeyLen = 250

// ErrInvalidKey is returned (wrapped) for a key that the database cannot
// hold exactly: empty, longer than MaxKeyLen characters, not UTF-8, or
// holding a NUL. The gallery validates keys more strictly before this.
var ErrInvalidKey = errors.New("store: invalid key")

// Image describes one stored image: its row in the database.
type Image struct {
	Key         string
	Object      string // the blob's name in the blob store
	ContentType string
	Size        int64 // bytes
	// Version is 1 for a key's first upload and one more for each upload
	// after it; the cache pool uses it so that an older image never
	// replaces a newer one.
	Version int64
	Created time.Time // first upload of the key (UTC, microseconds)
	Updated time.Time // latest upload
}

// imageRow is an Image as the images table holds it.
type imageRow struct {
	bun.BaseModel `bun:"table:images"`

	Key         string    `bun:"key,pk"`
	Object      string    `bun:"object,notnull"`
	ContentType string    `bun:"content_type,notnull"`
	Size        int64     `bun:"size,notnull"`
	Version     int64     `bun:"version,notnull"`
	Created     time.Time `bun:"created,notnull"`
	Updated     time.Time `bun:"updated,notnull"`
}

func (r imageRow) image() Image {
	return Image{
		Key: r.Key, Object: r.Object, ContentType: r.ContentType,
		Size: r.Size, Version: r.Version,
		Created: r.Created.UTC(), Updated: r.Updated.UTC(),
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

	// mu lets uploads run together but not during DeleteAll, whose wipe
	// of the blob store would otherwise remove the blob of an upload that
	// is about to commit its row. It orders this process only: run
	// DeleteAll where uploads are quiet, or in the one process that takes
	// them.
	mu sync.RWMutex
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
// (version 1) or moved to the new blob (version + 1); then invalidate is
// called with the new version so that the cache drops the old image; last
// the old blob is deleted. If the blob write or the transaction fails, the
// new blob is deleted and the row is as it was. Once the row is committed
// Put succeeds: an error of invalidate, or of deleting the old blob (which
// leaves a harmless orphan), is logged. Concurrent Puts of one key each
// get their own version, and the row ends at the highest. invalidate may
// be nil.
func (l *Library) Put(ctx context.Context, key, contentType string, data []byte,
	invalidate func(ctx context.Context, key string, version int64) error) (Image, error) {
	if err := checkKey(key); err != nil {
		return Image{}, fmt.Errorf("store: put image %q: %w", key, err)
	}
	l.mu.RLock()
	defer l.mu.RUnlock()

	object := newObjectName(contentType)
	if err := l.blobs.Put(ctx, object, contentType, data); err != nil {
		// A store may keep part of a failed write (an S3 server that
		// failed after storing): remove whatever is there.
		l.deleteBlob(ctx, object, "failed upload")
		return Image{}, fmt.Errorf("store: put image %q: %w", key, err)
	}
	now := l.now().UTC().Truncate(time.Microsecond) // what every database keeps
	row := imageRow{
		Key: key, Object: object, ContentType: contentType, Size: int64(len(data)),
		Version: 1, Created: now, Updated: now,
	}
	old, err := l.db.upsertImage(ctx, &row)
	if err != nil {
		var ce errCommit
		if errors.As(err, &ce) {
			// The row may have been committed before the connection
			// failed: keep the blob it may point at.
			l.log.Warn("upload's commit failed: its outcome is unknown, its blob is kept",
				"key", key, "object", object, "err", err)
		} else {
			l.deleteBlob(ctx, object, "failed upload")
		}
		return Image{}, fmt.Errorf("store: put image %q: save row in %s: %w", key, l.db, err)
	}
	img := row.image()

	// The row is committed: finish the job even if the caller has gone.
	after, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if invalidate != nil {
		if err := invalidate(after, key, img.Version); err != nil {
			l.log.Warn("upload committed but the cache was not invalidated",
				"key", key, "version", img.Version, "err", err)
		}
	}
	if old != "" {
		l.deleteBlob(after, old, "replaced")
	}
	return img, nil
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
// row as it is (version 1); an existing key gets row's object, content
// type, size and update time, its created time kept, and its version + 1,
// which is written back into row. It returns the object the row pointed
// at before ("" for a new key).
func (db *DB) upsertImage(ctx context.Context, row *imageRow) (old string, err error) {
	err = db.inTx(ctx, func(tx bun.Tx) error {
		old = ""
		row.Version, row.Created = 1, row.Updated
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
		row.Version, row.Created = cur.Version+1, cur.Created
		if _, err := tx.NewUpdate().Model(row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		return nil
	})
	return old, err
}

// Stat returns key's row, or an error wrapping ErrNotFound.
func (l *Library) Stat(ctx context.Context, key string) (Image, error) {
	row := imageRow{Key: key}
	if err := l.db.bun.NewSelect().Model(&row).WherePK().Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Image{}, fmt.Errorf("store: image %q: %w", key, ErrNotFound)
		}
		return Image{}, fmt.Errorf("store: stat image %q: %w", key, l.db.conn.Scrub(err))
	}
	return row.image(), nil
}

// Load returns key's row and bytes, or an error wrapping ErrNotFound when
// the key has no image.
func (l *Library) Load(ctx context.Context, key string) (Image, []byte, error) {
	// A concurrent Put may replace the row and delete its old blob between
	// reading the row and reading the blob: then the row has moved on, and
	// reading it again finds the new blob. Only a row that stays put while
	// its blob is missing has lost its bytes.
	const attempts = 10
	var prev string
	for range attempts {
		img, err := l.Stat(ctx, key)
		if err != nil {
			return Image{}, nil, err
		}
		if img.Object == prev {
			// Not ErrNotFound: the key exists, and its bytes are lost.
			return Image{}, nil, fmt.Errorf("store: load image %q: its blob %s is missing from the blob store", key, prev)
		}
		data, err := l.blobs.Get(ctx, img.Object)
		if err == nil {
			return img, data, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return Image{}, nil, fmt.Errorf("store: load image %q: %w", key, err)
		}
		prev = img.Object
	}
	return Image{}, nil, fmt.Errorf("store: load image %q: replaced %d times while loading it", key, attempts)
}

// ListOptions selects a page of images.
type ListOptions struct {
	Prefix string // only keys starting with Prefix (taken literally: % and _ are plain characters; not UTF-8: none)
	Limit  int    // at most this many; 0 or less: all
	Offset int    // skip this many first
}

// noLimit stands for "all rows" where OFFSET needs a LIMIT (MySQL, SQLite).
const noLimit = 1 << 53

// List returns a page of images, newest first (latest upload first, then
// by key), and how many images match the prefix in all.
func (l *Library) List(ctx context.Context, o ListOptions) ([]Image, int, error) {
	if !utf8.ValidString(o.Prefix) || strings.IndexByte(o.Prefix, 0) >= 0 {
		// Keys are UTF-8 text without NUL: none starts with this prefix
		// (and the databases would reject or mangle it).
		return []Image{}, 0, nil
	}
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
	images := make([]Image, len(rows))
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
	keys := []string{}
	err := l.db.bun.NewSelect().Model((*imageRow)(nil)).Column("key").
		OrderExpr("? DESC, ? ASC", bun.Ident("updated"), bun.Ident("key")).
		Scan(ctx, &keys)
	if err != nil {
		return nil, fmt.Errorf("store: list keys: %w", l.db.conn.Scrub(err))
	}
	return keys, nil
}

// DeleteAll deletes every image: the rows first, so that no row is ever
// left pointing at a deleted blob, then every blob.
func (l *Library) DeleteAll(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.db.bun.NewDelete().Model((*imageRow)(nil)).Where("1 = 1").Exec(ctx); err != nil {
		return fmt.Errorf("store: delete all images: %w", l.db.conn.Scrub(err))
	}
	if err := l.blobs.DeleteAll(ctx); err != nil {
		return fmt.Errorf("store: delete all images: %w", err)
	}
	return nil
}
