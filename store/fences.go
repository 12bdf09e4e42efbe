package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/picpool/picpool/cache/pool"
)

// The cache pool's fences (see pool.Fences) in the cache_fences table:
// the generation in the row named "", one row per node address.

// generationRow names the generation's row.
const generationRow = ""

type fenceRow struct {
	bun.BaseModel `bun:"table:cache_fences"`

	Name  string `bun:"name,pk"`
	Value int64  `bun:"value,notnull"`
}

// LoadFences returns the pool's fences.
func (db *DB) LoadFences(ctx context.Context) (pool.Fences, error) {
	ctx, cancel := db.opContext(ctx)
	defer cancel()
	var rows []fenceRow
	if err := db.bun.NewSelect().Model(&rows).Scan(ctx); err != nil {
		return pool.Fences{}, fmt.Errorf("store: load cache fences: %w", db.conn.Scrub(err))
	}
	var f pool.Fences
	for _, r := range rows {
		if r.Name == generationRow {
			f.Generation = uint64(r.Value)
			continue
		}
		if f.Nodes == nil {
			f.Nodes = map[string]uint64{}
		}
		f.Nodes[r.Name] = uint64(r.Value)
	}
	return f, nil
}

// RaiseFence adds one to a node's fence, committed when it returns.
func (db *DB) RaiseFence(ctx context.Context, node string) error {
	if node == generationRow {
		return errors.New("store: raise fence: a node's address cannot be empty")
	}
	ctx, cancel := db.opContext(ctx)
	defer cancel()
	if err := db.raise(ctx, db.bun, node); err != nil {
		return fmt.Errorf("store: raise the fence of node %s: %w", node, db.conn.Scrub(err))
	}
	return nil
}

// raise adds one to a fence row (from 0 when it has none), on q: the
// database, or a transaction that must raise it atomically with its own
// changes.
func (db *DB) raise(ctx context.Context, q bun.IDB, name string) error {
	stmt := "INSERT INTO cache_fences (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = cache_fences.value + 1"
	if db.isMySQL() {
		stmt = "INSERT INTO cache_fences (name, value) VALUES (?, 1) ON DUPLICATE KEY UPDATE value = value + 1"
	}
	_, err := q.ExecContext(ctx, stmt, name)
	return err
}

// nextVersion takes the next image version from the deployment's sequence,
// inside tx: versions are never given twice, even to a key that was
// deleted and uploaded again, so a cache tombstone or a browser's cached
// copy of an old image can never match a new one.
func (db *DB) nextVersion(ctx context.Context, tx bun.Tx) (int64, error) {
	if _, err := tx.ExecContext(ctx, "UPDATE version_seq SET value = value + 1 WHERE id = 1"); err != nil {
		return 0, fmt.Errorf("next version: %w", err)
	}
	var v int64
	if err := tx.QueryRowContext(ctx, "SELECT value FROM version_seq WHERE id = 1").Scan(&v); err != nil {
		return 0, fmt.Errorf("next version: %w", err)
	}
	return v, nil
}
