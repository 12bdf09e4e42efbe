package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/store"
	"github.com/picpool/picpool/store/storetest"
)

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		want   []string // substrings of the error
		secret string   // must not appear in the error
	}{
		{"unknown scheme", "redis://u:hunter22@127.0.0.1:6379/0",
			[]string{`store: database address "redis://u:xxxxx@127.0.0.1:6379/0": unknown scheme "redis"`}, "hunter22"},
		{"no scheme", "picpool.db", []string{"has no scheme"}, ""},
		{"postgres down", "postgres://picpool:hunter22@127.0.0.1:5999/test?sslmode=disable",
			[]string{"store: connect to postgres://picpool:xxxxx@127.0.0.1:5999/test?sslmode=disable: ", "connect"}, "hunter22"},
		{"mysql down", "mysql://picpool:hunter22@127.0.0.1:5999/test",
			[]string{"store: connect to mysql://picpool:xxxxx@127.0.0.1:5999/test: ", "connection refused"}, "hunter22"},
		{"mysql without database", "mysql://root@127.0.0.1:3306", []string{"names no database"}, ""},
		{"sqlite without path", "sqlite:", []string{"has no file path"}, ""},
		{"sqlite with an empty absolute path", "sqlite://", []string{"has no file path"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			db, err := store.Open(ctx, tt.url, nil)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.url)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open error = %q, want it to contain %q", err, w)
				}
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("Open error = %q leaks the password", err)
			}
		})
	}
}

// TestOpenWrongPassword checks that a server's refusal does not carry the
// password into the error either.
func TestOpenWrongPassword(t *testing.T) {
	base := os.Getenv(storetest.EnvMySQL)
	if base == "" {
		t.Skip(storetest.EnvMySQL + " is not set: no MySQL server to refuse a password")
	}
	const secret = "not-the-password-4711"
	u := strings.Replace(base, "mysql://root@", "mysql://root:"+secret+"@", 1)
	if u == base {
		t.Skipf("%s does not have the form mysql://root@host/db", storetest.EnvMySQL)
	}
	_, err := store.Open(context.Background(), u, nil)
	if err == nil {
		t.Skip("the server accepted a wrong password for root (no password check configured)")
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "root:xxxxx@") {
		t.Errorf("Open error = %q, want the address redacted and no password", err)
	}
}

func TestOpenSQLiteCreatesFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "deeper")
	db := storetest.Open(t, "sqlite:"+filepath.Join(dir, "picpool.db"))
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "picpool.db")); err != nil {
		t.Errorf("database file not created: %v", err)
	}
}

// TestMemoryDatabasesArePrivate checks that each sqlite::memory: handle
// is its own database, and that it keeps its data across calls.
func TestMemoryDatabasesArePrivate(t *testing.T) {
	ctx := context.Background()
	a := storetest.Open(t, "sqlite::memory:")
	b := storetest.Open(t, "sqlite::memory:")
	if err := a.SaveSettings(ctx, settingsFixture); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := a.LoadSettings(ctx); err != nil || !ok {
		t.Errorf("LoadSettings on the same memory database = %v, %v; want the saved settings", ok, err)
	}
	if _, ok, err := b.LoadSettings(ctx); err != nil || ok {
		t.Errorf("LoadSettings on another memory database = %v, %v; want none saved", ok, err)
	}
}

// TestMigrations opens one fresh database from several handles at once:
// every Open must succeed, and the migrations be recorded once each.
func TestMigrations(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, kind)
			const n = 4
			dbs := make([]*store.DB, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { dbs[i], errs[i] = store.Open(ctx, dsn, nil) })
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("concurrent Open %d: %v", i, errs[i])
				}
				defer dbs[i].Close()
			}
			got, err := dbs[0].MigrationVersions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := dbs[0].MigrationFileVersions()
			if len(want) == 0 || want[0] != 1 {
				t.Fatalf("migration files %v: want them to start at 1", want)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("schema_migrations versions (-want +got):\n%s", diff)
			}
			if dbs[0].Kind() != kind {
				t.Errorf("Kind() = %q, want %q", dbs[0].Kind(), kind)
			}
		})
	}
}

func TestSplitStatements(t *testing.T) {
	text := "-- a comment\nCREATE TABLE a (x INT);\n\n-- another\nCREATE INDEX i\n  ON a (x);\nSELECT 1"
	want := []string{"CREATE TABLE a (x INT)", "CREATE INDEX i\n  ON a (x)", "SELECT 1"}
	if diff := cmp.Diff(want, store.SplitStatements(text)); diff != "" {
		t.Errorf("SplitStatements (-want +got):\n%s", diff)
	}
}

func TestPing(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			db := storetest.OpenDB(t, kind)
			if err := db.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			db.Close()
			if err := db.Ping(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "store: ping ") {
				t.Errorf("Ping after Close = %v, want a store: ping error", err)
			}
		})
	}
}

// TestCommitFailureIsOutcomeUnknown: a transaction whose COMMIT failed
// says its outcome is unknown (callers must not say "nothing changed");
// one that failed before its commit does not.
func TestCommitFailureIsOutcomeUnknown(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			db := storetest.OpenDB(t, kind)
			ctx, cancel := context.WithCancel(context.Background())
			err := db.InTx(ctx, func() error { cancel(); return nil }) // the commit finds its context gone
			if !errors.Is(err, store.ErrOutcomeUnknown) {
				t.Errorf("a failed commit: %v, want ErrOutcomeUnknown", err)
			}
			err = db.InTx(context.Background(), func() error { return errors.New("no") })
			if err == nil || errors.Is(err, store.ErrOutcomeUnknown) {
				t.Errorf("a failure before the commit: %v, want an error that is not ErrOutcomeUnknown", err)
			}
		})
	}
}
