// Package sqlconn turns PicPool's URL-like database addresses into
// database/sql handles. It is shared by package store, which adds bun and
// the migrations on top, and by store/storetest, which needs a plain
// connection to create and drop the isolated databases tests run in.
package sqlconn

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// Kind names a database engine.
type Kind string

// The engines PicPool runs on.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
	MySQL    Kind = "mysql" // MySQL and MariaDB
)

// connectTimeout bounds the dial to a database server whose address does
// not say otherwise, so that a wrong host fails start-up instead of hanging.
const connectTimeout = 10 * time.Second

// busyTimeoutMS is how long a SQLite connection waits for another writer
// (in this or another process) before giving up with "database is locked".
const busyTimeoutMS = 10000

// Conn is an opened (not yet pinged) database handle.
type Conn struct {
	DB   *sql.DB
	Kind Kind
	// Redacted is the address with any password replaced, fit for errors
	// and logs.
	Redacted string
	// secret is the password, so that errors can be scrubbed of it.
	secret string
}

// Open parses rawURL and opens a handle on it without connecting:
// "sqlite:PATH" (the parent folder is created), "sqlite::memory:",
// "postgres://…" (or "postgresql://…"), "mysql://user:pass@host:port/db".
func Open(rawURL string) (*Conn, error) {
	scheme, rest, ok := strings.Cut(rawURL, ":")
	if !ok || scheme == "" {
		return nil, fmt.Errorf("database address %q has no scheme (want sqlite:PATH, postgres://… or mysql://…)", Redact(rawURL))
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		return openSQLite(rawURL, rest)
	case "postgres", "postgresql":
		return openPostgres(rawURL)
	case "mysql", "mariadb":
		return openMySQL(rawURL)
	default:
		return nil, fmt.Errorf("database address %q: unknown scheme %q (want sqlite:PATH, postgres://… or mysql://…)", Redact(rawURL), scheme)
	}
}

// Ping connects, and returns an error that names the redacted address and
// never contains the password.
func (c *Conn) Ping(ctx context.Context) error {
	if err := c.DB.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to %s: %w", c.Redacted, c.Scrub(err))
	}
	return nil
}

// Scrub returns err with every occurrence of the password replaced, keeping
// the error chain for errors.Is and errors.As. Drivers do not put passwords
// in their messages today; this makes sure none ever reaches a log.
func (c *Conn) Scrub(err error) error {
	if err == nil || c.secret == "" || !strings.Contains(err.Error(), c.secret) {
		return err
	}
	return scrubbed{err: err, msg: strings.ReplaceAll(err.Error(), c.secret, "xxxxx")}
}

type scrubbed struct {
	err error
	msg string
}

func (s scrubbed) Error() string { return s.msg }
func (s scrubbed) Unwrap() error { return s.err }

// Redact returns rawURL with its password, if any, replaced by "xxxxx".
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		// An address that does not parse may still hold a password
		// between "://user:" and "@": cut out everything up to the "@".
		if i, j := strings.Index(rawURL, "://"), strings.LastIndex(rawURL, "@"); i >= 0 && j > i {
			return rawURL[:i+3] + "xxxxx" + rawURL[j:]
		}
		return rawURL
	}
	return u.Redacted()
}

func openSQLite(rawURL, path string) (*Conn, error) {
	params := url.Values{
		"_busy_timeout": {fmt.Sprint(busyTimeoutMS)},
		// Every transaction takes the write lock when it begins: a
		// transaction that reads and then writes would otherwise fail at
		// once with "database is locked" (busy_timeout cannot help a
		// deferred transaction that must upgrade its lock).
		"_txlock": {"immediate"},
		// LIKE is ASCII case-insensitive by default in SQLite; keys are
		// case-sensitive everywhere, so the prefix filter must be too.
		"_pragma": {"case_sensitive_like(1)"},
	}
	if path == ":memory:" {
		// One connection holds the in-memory database: it lives exactly as
		// long as this handle, and is never shared with another *DB.
		db, err := sql.Open("sqlite", ":memory:?"+params.Encode())
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", rawURL, err)
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		return &Conn{DB: db, Kind: SQLite, Redacted: rawURL}, nil
	}
	// "sqlite:///abs/path" and "sqlite:rel/path" both work.
	path = strings.TrimPrefix(path, "//")
	if path == "" {
		return nil, fmt.Errorf("database address %q has no file path (want sqlite:data/picpool.db)", rawURL)
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("database address %q: a SQLite path may not contain '?' or '#'", rawURL)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open %s: create folder: %w", rawURL, err)
		}
	}
	// WAL lets readers go on while one connection writes; NORMAL
	// synchronous is durable across application crashes in WAL mode.
	params.Set("_journal_mode", "WAL")
	params.Set("_synchronous", "NORMAL")
	db, err := sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", rawURL, err)
	}
	// Each SQLite connection has its own page cache: bound them as for
	// a server.
	setPool(db)
	return &Conn{DB: db, Kind: SQLite, Redacted: rawURL}, nil
}

func openPostgres(rawURL string) (*Conn, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		// pgx's parse errors quote the address: say only what is wrong.
		return nil, fmt.Errorf("database address %s: %w", Redact(rawURL), scrubParse(err, rawURL))
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	// bun interpolates every argument into the SQL text itself, so each
	// statement is unique: the simple protocol runs it in one round trip
	// instead of preparing and caching a statement that is never reused.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	db := stdlib.OpenDB(*cfg)
	setPool(db)
	return &Conn{DB: db, Kind: Postgres, Redacted: Redact(rawURL), secret: cfg.Password}, nil
}

func openMySQL(rawURL string) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database address %s: %w", Redact(rawURL), scrubParse(err, rawURL))
	}
	cfg := mysql.NewConfig()
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if cfg.DBName == "" {
		return nil, fmt.Errorf("database address %s names no database (want mysql://user:pass@host:3306/db)", Redact(rawURL))
	}
	// Driver options (tls=…, timeout=…) pass through from the query.
	if u.RawQuery != "" {
		full := cfg.FormatDSN()
		sep := "?"
		if strings.Contains(full, "?") {
			sep = "&"
		}
		parsed, err := mysql.ParseDSN(full + sep + u.RawQuery)
		if err != nil {
			return nil, fmt.Errorf("database address %s: %w", Redact(rawURL), scrubParse(err, rawURL))
		}
		cfg = parsed
	}
	// Times go in and come out as UTC; the schema uses DATETIME(6).
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_bin"
	cfg.MultiStatements = false
	// Affected-row counts must mean "changed", which SwapTable relies on.
	cfg.ClientFoundRows = false
	if cfg.Timeout == 0 {
		cfg.Timeout = connectTimeout
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("database address %s: %w", Redact(rawURL), scrubParse(err, rawURL))
	}
	db := sql.OpenDB(connector)
	setPool(db)
	// Servers close idle connections after wait_timeout (8 h by default);
	// recycling earlier avoids "invalid connection" on the first query.
	db.SetConnMaxLifetime(30 * time.Minute)
	return &Conn{DB: db, Kind: MySQL, Redacted: Redact(rawURL), secret: cfg.Passwd}, nil
}

// setPool sizes a database's connection pool for one PicPool process:
// enough for concurrent uploads and page views, few enough that several
// processes stay under a server's connection limit.
func setPool(db *sql.DB) {
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
}

// scrubParse removes the password of rawURL from a parse error's message.
func scrubParse(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		return err
	}
	c := Conn{secret: pw}
	if err2 := c.Scrub(err); err2 != err {
		return err2
	}
	// url.Parse errors quote the whole address, possibly percent-decoded.
	if dec, derr := url.PathUnescape(pw); derr == nil && dec != pw {
		c.secret = dec
		return c.Scrub(err)
	}
	return err
}

// RandomName returns a name for a throwaway schema or database: the prefix
// and 16 random hex digits.
func RandomName(prefix string) string {
	return prefix + strings.ToLower(rand.Text()[:16])
}
