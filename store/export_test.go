package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// BlobNames lists every object of a blob store opened by this package.
func BlobNames(ctx context.Context, b Blobs) ([]string, error) {
	switch b := b.(type) {
	case *fileBlobs:
		return b.names(ctx)
	case *s3Blobs:
		return b.names(ctx)
	}
	return nil, fmt.Errorf("BlobNames: unknown blob store %T", b)
}

// SetClock replaces the library's clock.
func (l *Library) SetClock(now func() time.Time) { l.now = now }

// SetClock replaces the metrics backend's clock.
func (m *Metrics) SetClock(now func() time.Time) { m.now = now }

// MigrationVersions returns the versions recorded in schema_migrations.
func (db *DB) MigrationVersions(ctx context.Context) ([]int, error) {
	var vs []int
	err := db.bun.NewSelect().Table("schema_migrations").Column("version").Order("version").Scan(ctx, &vs)
	return vs, err
}

// MigrationFileVersions returns the versions of the database's dialect's
// migration files, in order. (Versions may skip numbers: branches take
// their numbers ahead of merging.)
func (db *DB) MigrationFileVersions() []int {
	ms, err := migrations(db.conn.Kind)
	if err != nil {
		panic(err)
	}
	var vs []int
	for _, m := range ms {
		vs = append(vs, m.version)
	}
	return vs
}

// SetClock replaces the requests table's clock.
func (r *Requests) SetClock(now func() time.Time) { r.now = now }

var SplitStatements = splitStatements

// InTx runs fn in one of the database's transactions.
func (db *DB) InTx(ctx context.Context, fn func() error) error {
	return db.inTx(ctx, func(bun.Tx) error { return fn() })
}

// ForgetContent makes key's row look stored before hashes and sizes were
// kept.
func (l *Library) ForgetContent(ctx context.Context, key string) error {
	_, err := l.db.bun.NewUpdate().Model((*imageRow)(nil)).
		Set("? = ''", bun.Ident("hash")).Set("? = 0", bun.Ident("width")).Set("? = 0", bun.Ident("height")).
		Where("? = ?", bun.Ident("key"), key).Exec(ctx)
	return err
}
