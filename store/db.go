// Package store keeps PicPool's data: image rows, the pool table and the
// sizing settings in a relational database (SQLite, PostgreSQL or
// MySQL/MariaDB, through bun), image bytes in a blob store (a folder or
// S3), and the "db" metrics backend's samples in the same database.
//
// It imports only value types and interfaces of packages cache and scaling,
// so that *DB satisfies pool.TableStore and *Metrics scaling.Metrics.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/schema"
	"modernc.org/sqlite"

	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/store/internal/sqlconn"
)

// ErrNotFound is returned (wrapped) for a key, blob or request that does
// not exist; it wraps gallery.ErrNotFound, which the domain tells.
var ErrNotFound = fmt.Errorf("store: not found: %w", gallery.ErrNotFound)

// DB is PicPool's relational database. It is safe for concurrent use.
type DB struct {
	bun     *bun.DB
	conn    *sqlconn.Conn
	log     *slog.Logger
	timeout time.Duration // of one operation: see SetTimeout
}

// DefaultTimeout bounds one database operation: a database that accepts
// connections but never answers makes requests fail with 503 within it,
// rather than hang (a request's other work fits in the 5 s the gallery
// promises).
const DefaultTimeout = 4 * time.Second

// SetTimeout changes how long one database operation may take (a query,
// or a transaction with its retries). Zero or less restores the default.
func (db *DB) SetTimeout(d time.Duration) {
	if d <= 0 {
		d = DefaultTimeout
	}
	db.timeout = d
}

// opContext bounds one database operation by the timeout.
func (db *DB) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, db.timeout)
}

var _ pool.TableStore = (*DB)(nil)

// Open connects to the database at url and applies the embedded migrations
// that it lacks:
//
//	sqlite:data/picpool.db      a file (its folder is created), WAL mode
//	sqlite::memory:             a private in-memory database, for tests
//	postgres://user:pass@host:5432/db?sslmode=disable
//	mysql://user:pass@host:3306/db   (MySQL or MariaDB)
//
// Several processes may open the same database at once: migrations run
// under a lock. Errors name the address with its password redacted.
func Open(ctx context.Context, url string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := sqlconn.Open(url)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.DB.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	var dialect schema.Dialect
	switch conn.Kind {
	case sqlconn.SQLite:
		dialect = sqlitedialect.New()
	case sqlconn.Postgres:
		dialect = pgdialect.New()
	case sqlconn.MySQL:
		dialect = mysqldialect.New(mysqldialect.WithTimeLocation("UTC"))
	}
	db := &DB{bun: bun.NewDB(conn.DB, dialect), conn: conn, log: log, timeout: DefaultTimeout}
	applied, err := db.migrate(ctx)
	if err != nil {
		db.bun.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", conn.Redacted, conn.Scrub(err))
	}
	log.Info("database ready", "database", conn.Redacted, "migrations_applied", applied)
	return db, nil
}

// Close closes the database's connections.
func (db *DB) Close() error {
	if err := db.bun.Close(); err != nil {
		return fmt.Errorf("store: close database: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.opContext(ctx)
	defer cancel()
	if err := db.bun.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping %s: %w", db.conn.Redacted, db.conn.Scrub(err))
	}
	return nil
}

// Kind returns the database engine: "sqlite", "postgres" or "mysql".
func (db *DB) Kind() string { return string(db.conn.Kind) }

// String returns the database's address with any password redacted.
func (db *DB) String() string { return db.conn.Redacted }

// retryable reports whether err is a transient conflict between concurrent
// transactions (a deadlock, a serialization failure, a lock wait that
// timed out) after which running the transaction again can succeed.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01" // serialization_failure, deadlock_detected
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number == 1213 || myErr.Number == 1205 // deadlock, lock wait timeout
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		code := liteErr.Code() & 0xff
		return code == 5 || code == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	return false
}

// ErrOutcomeUnknown is returned (wrapped) when a write reported a failure
// that it may not have had: the connection failed during its commit.
var ErrOutcomeUnknown = fmt.Errorf("store: the write may or may not have taken effect: %w", gallery.ErrOutcomeUnknown)

// errCommit marks a failed COMMIT: the transaction may or may not have
// taken effect (the connection can drop after the server committed). It
// wraps ErrOutcomeUnknown, so that callers outside the package can tell.
type errCommit struct{ err error }

func (e errCommit) Error() string   { return "commit: " + e.err.Error() }
func (e errCommit) Unwrap() []error { return []error{e.err, ErrOutcomeUnknown} }

// inTx runs fn in a transaction, and runs it again (up to 5 times in all)
// after a transient conflict. A failed COMMIT is returned as errCommit and
// never retried.
func (db *DB) inTx(ctx context.Context, fn func(tx bun.Tx) error) error {
	ctx, cancel := db.opContext(ctx)
	defer cancel()
	const attempts = 5
	for attempt := 1; ; attempt++ {
		err := db.txOnce(ctx, fn)
		var ce errCommit
		if err == nil || errors.As(err, &ce) || attempt == attempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		db.log.Debug("transaction conflict, retrying", "attempt", attempt, "err", err)
	}
}

func (db *DB) txOnce(ctx context.Context, fn func(tx bun.Tx) error) error {
	tx, err := db.bun.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", db.conn.Scrub(err))
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			db.log.Debug("rollback failed", "err", rerr)
		}
		return db.conn.Scrub(err)
	}
	if err := tx.Commit(); err != nil {
		return errCommit{db.conn.Scrub(err)}
	}
	return nil
}

// isMySQL reports whether the database speaks MySQL's SQL dialect.
func (db *DB) isMySQL() bool { return db.conn.Kind == sqlconn.MySQL }

// upsert makes q an insert-or-update on the conflict column, setting cols
// from the inserted values, in the database's dialect.
func (db *DB) upsert(q *bun.InsertQuery, conflict string, cols ...string) *bun.InsertQuery {
	if db.isMySQL() {
		q = q.On("DUPLICATE KEY UPDATE")
		for _, c := range cols {
			q = q.Set("? = VALUES(?)", bun.Ident(c), bun.Ident(c))
		}
		return q
	}
	q = q.On("CONFLICT (?) DO UPDATE", bun.Ident(conflict))
	for _, c := range cols {
		q = q.Set("? = EXCLUDED.?", bun.Ident(c), bun.Ident(c))
	}
	return q
}

// insertIgnore makes q insert nothing when a row with the same conflict
// column exists. On MySQL the "update" sets a column to itself, which
// changes nothing and reports no affected row, where INSERT IGNORE would
// also hide unrelated errors as warnings.
func (db *DB) insertIgnore(q *bun.InsertQuery, conflict string) *bun.InsertQuery {
	if db.isMySQL() {
		return q.On("DUPLICATE KEY UPDATE ? = ?", bun.Ident(conflict), bun.Ident(conflict))
	}
	return q.On("CONFLICT (?) DO NOTHING", bun.Ident(conflict))
}
