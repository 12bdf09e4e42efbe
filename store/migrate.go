package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/picpool/picpool/store/internal/sqlconn"
)

// migrationFiles holds one folder of numbered SQL files per dialect
// (migrations/sqlite/0001_init.sql, …). A migration's version is its
// number; once released, a file never changes: changes go in a new one.
//
//go:embed migrations
var migrationFiles embed.FS

// migration is one numbered SQL file, split into statements.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations returns kind's migrations in version order.
func migrations(kind sqlconn.Kind) ([]migration, error) {
	dir := path.Join("migrations", string(kind))
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries { // ReadDir sorts by name, so by version
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %s/%s: want NNNN_name.sql", dir, e.Name())
		}
		if len(ms) > 0 && ms[len(ms)-1].version == v {
			return nil, fmt.Errorf("migration files %s and %s share version %d", ms[len(ms)-1].name, e.Name(), v)
		}
		text, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), stmts: splitStatements(string(text))})
	}
	return ms, nil
}

// splitStatements splits a SQL file into statements at semicolons that end
// a line, dropping "--" comment lines. The MySQL driver runs one statement
// per call, so files are split for every dialect alike.
func splitStatements(text string) []string {
	var stmts []string
	var cur strings.Builder
	for line := range strings.Lines(text) {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		stmts = append(stmts, s)
	}
	return stmts
}

// migrationsTable records which versions were applied, per dialect.
var migrationsTable = map[sqlconn.Kind]string{
	sqlconn.SQLite:   `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied TIMESTAMP NOT NULL)`,
	sqlconn.Postgres: `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied TIMESTAMPTZ NOT NULL)`,
	sqlconn.MySQL:    `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied DATETIME(6) NOT NULL) ENGINE=InnoDB`,
}

// migrateLockID is the PostgreSQL advisory lock that serializes migrations
// of processes starting together ("picpool" in ASCII).
const migrateLockID = 0x70696370_6f6f6c

// execer is what migrations run statements on: a transaction, or (MySQL)
// a single connection holding the migration lock.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// migrate applies the migrations the database lacks, and returns how many
// it applied. Two processes starting together take turns: PostgreSQL under
// an advisory lock in one transaction (its DDL is transactional), SQLite in
// one BEGIN IMMEDIATE transaction (the file's write lock), MySQL under a
// named lock (GET_LOCK) on one connection, since its DDL commits by itself.
func (db *DB) migrate(ctx context.Context) (int, error) {
	ms, err := migrations(db.conn.Kind)
	if err != nil {
		return 0, err
	}
	raw := db.conn.DB
	if db.conn.Kind == sqlconn.MySQL {
		conn, err := raw.Conn(ctx)
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		var got sql.NullInt64
		const lockName = "LEFT(CONCAT('picpool_migrate.', DATABASE()), 64)"
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK("+lockName+", 60)").Scan(&got); err != nil {
			return 0, fmt.Errorf("take migration lock: %w", err)
		}
		if got.Int64 != 1 {
			return 0, fmt.Errorf("take migration lock: another process held it for 60 s")
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK("+lockName+")")
		return applyMigrations(ctx, conn, db.conn.Kind, ms)
	}
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if db.conn.Kind == sqlconn.Postgres {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrateLockID)); err != nil {
			return 0, fmt.Errorf("take migration lock: %w", err)
		}
	}
	n, err := applyMigrations(ctx, tx, db.conn.Kind, ms)
	if err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

func applyMigrations(ctx context.Context, ex execer, kind sqlconn.Kind, ms []migration) (int, error) {
	if _, err := ex.ExecContext(ctx, migrationsTable[kind]); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := ex.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return 0, fmt.Errorf("read schema_migrations: %w", err)
	}
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read schema_migrations: %w", err)
		}
		done[v] = true
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("read schema_migrations: %w", err)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := 0
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		for i, stmt := range m.stmts {
			if _, err := ex.ExecContext(ctx, stmt); err != nil {
				return applied, fmt.Errorf("%s, statement %d: %w", m.name, i+1, err)
			}
		}
		// The only argument is a time, formatted here: each driver has its
		// own placeholder syntax.
		now := time.Now().UTC().Format("2006-01-02 15:04:05.000000")
		q := fmt.Sprintf("INSERT INTO schema_migrations (version, name, applied) VALUES (%d, '%s', '%s')", m.version, m.name, now)
		if _, err := ex.ExecContext(ctx, q); err != nil {
			return applied, fmt.Errorf("%s: record: %w", m.name, err)
		}
		applied++
	}
	return applied, nil
}
