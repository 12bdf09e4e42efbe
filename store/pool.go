package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/uptrace/bun"

	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/scaling"
)

// poolRow is the pool_table's single row (id 1): the pool table as JSON,
// and its epoch in a column of its own for the compare-and-swap.
type poolRow struct {
	bun.BaseModel `bun:"table:pool_table"`

	ID    int    `bun:"id,pk"`
	Epoch int64  `bun:"epoch,notnull"`
	Data  string `bun:"data,notnull"`
}

// LoadTable returns the pool table last stored by SwapTable, or an error
// wrapping pool.ErrNoTable before the first.
func (db *DB) LoadTable(ctx context.Context) (pool.Table, error) {
	ctx, cancel := db.opContext(ctx)
	defer cancel()
	row := poolRow{ID: 1}
	if err := db.bun.NewSelect().Model(&row).WherePK().Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return pool.Table{}, fmt.Errorf("store: load pool table: %w", pool.ErrNoTable)
		}
		return pool.Table{}, fmt.Errorf("store: load pool table: %w", db.conn.Scrub(err))
	}
	var t pool.Table
	if err := json.Unmarshal([]byte(row.Data), &t); err != nil {
		return pool.Table{}, fmt.Errorf("store: load pool table: decode: %w", err)
	}
	t.Epoch = uint64(row.Epoch) // the column is what the compare-and-swap trusts
	return t, nil
}

// SwapTable stores t if the stored table's epoch is prevEpoch (0: no table
// stored yet), and otherwise returns an error wrapping
// pool.ErrEpochConflict. t.Epoch must be greater than prevEpoch.
func (db *DB) SwapTable(ctx context.Context, prevEpoch uint64, t pool.Table) error {
	ctx, cancel := db.opContext(ctx)
	defer cancel()
	if t.Epoch <= prevEpoch || t.Epoch > math.MaxInt64 {
		return fmt.Errorf("store: swap pool table: new epoch %d must be above the previous %d (and below 2^63)", t.Epoch, prevEpoch)
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("store: swap pool table: encode: %w", err)
	}
	row := poolRow{ID: 1, Epoch: int64(t.Epoch), Data: string(data)}
	var res sql.Result
	if prevEpoch == 0 {
		res, err = db.insertIgnore(db.bun.NewInsert().Model(&row), "id").Exec(ctx)
	} else {
		res, err = db.bun.NewUpdate().Model(&row).WherePK().
			Where("? = ?", bun.Ident("epoch"), int64(prevEpoch)).Exec(ctx)
	}
	if err != nil {
		return fmt.Errorf("store: swap pool table %d→%d: %w", prevEpoch, t.Epoch, db.conn.Scrub(err))
	}
	// One row affected: ours. None: another owner got there first. (The
	// new epoch differs from the stored one, so MySQL, which counts only
	// rows that changed, counts ours.)
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: swap pool table %d→%d: %w", prevEpoch, t.Epoch, err)
	} else if n != 1 {
		return fmt.Errorf("store: swap pool table %d→%d: %w", prevEpoch, t.Epoch, pool.ErrEpochConflict)
	}
	return nil
}

// settingsRow is the settings table's single row (id 1), as JSON.
type settingsRow struct {
	bun.BaseModel `bun:"table:settings"`

	ID   int    `bun:"id,pk"`
	Data string `bun:"data,notnull"`
}

// LoadSettings returns the pool's sizing settings, and false when none
// were saved yet.
func (db *DB) LoadSettings(ctx context.Context) (scaling.Settings, bool, error) {
	ctx, cancel := db.opContext(ctx)
	defer cancel()
	row := settingsRow{ID: 1}
	if err := db.bun.NewSelect().Model(&row).WherePK().Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return scaling.Settings{}, false, nil
		}
		return scaling.Settings{}, false, fmt.Errorf("store: load settings: %w", db.conn.Scrub(err))
	}
	var s scaling.Settings
	if err := json.Unmarshal([]byte(row.Data), &s); err != nil {
		return scaling.Settings{}, false, fmt.Errorf("store: load settings: decode: %w", err)
	}
	return s, true, nil
}

// SaveSettings replaces the pool's sizing settings. They are kept as JSON
// of scaling.Settings, so fields added there are saved without a
// migration.
func (db *DB) SaveSettings(ctx context.Context, s scaling.Settings) error {
	ctx, cancel := db.opContext(ctx)
	defer cancel()
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("store: save settings: encode: %w", err)
	}
	row := settingsRow{ID: 1, Data: string(data)}
	if _, err := db.upsert(db.bun.NewInsert().Model(&row), "id", "data").Exec(ctx); err != nil {
		return fmt.Errorf("store: save settings: %w", db.conn.Scrub(err))
	}
	return nil
}
