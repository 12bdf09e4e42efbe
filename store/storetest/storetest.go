// Package storetest gives tests real, isolated stores: a fresh SQLite
// file, PostgreSQL schema or MariaDB/MySQL database per test (dropped at
// cleanup, so that the tests of several packages can share one server at
// the same time), and blob stores on a folder or on gofakes3 in-process.
//
// PostgreSQL and MySQL are used when PICPOOL_TEST_POSTGRES and
// PICPOOL_TEST_MYSQL hold server addresses (.ci/run sets both):
//
//	PICPOOL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//	PICPOOL_TEST_MYSQL=mysql://root@127.0.0.1:3306/test
//
// A typical test runs once per available database:
//
//	for _, kind := range storetest.Kinds(t) {
//		t.Run(kind, func(t *testing.T) {
//			db := storetest.OpenDB(t, kind)
//			…
//		})
//	}
package storetest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/picpool/picpool/store"
	"github.com/picpool/picpool/store/internal/sqlconn"
)

// The database kinds, as Kinds lists them.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
	MySQL    = "mysql"
)

// EnvPostgres and EnvMySQL name the environment variables that hold the
// test servers' addresses.
const (
	EnvPostgres = "PICPOOL_TEST_POSTGRES"
	EnvMySQL    = "PICPOOL_TEST_MYSQL"
)

// serverEnv maps a server kind to the variable holding its address.
var serverEnv = map[string]string{Postgres: EnvPostgres, MySQL: EnvMySQL}

// unavailable says why kind cannot be tested here, or "".
func unavailable(kind string) string {
	env, ok := serverEnv[kind]
	if !ok {
		return ""
	}
	if os.Getenv(env) == "" {
		return fmt.Sprintf("storetest: %s is not set, so there is no %s server to test against (.ci/run sets it, e.g. %s)",
			env, kind, map[string]string{
				Postgres: "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
				MySQL:    "mysql://root@127.0.0.1:3306/test",
			}[kind])
	}
	return ""
}

// Kinds returns the database kinds this run can test: "sqlite" always,
// "postgres" and "mysql" when their variables are set. For each kind left
// out it runs a subtest of that name that skips saying why (or, when tb is
// not a *testing.T, logs why), so that a run that did not cover a database
// says so.
func Kinds(tb testing.TB) []string {
	tb.Helper()
	kinds := []string{SQLite}
	for _, kind := range []string{Postgres, MySQL} {
		why := unavailable(kind)
		if why == "" {
			kinds = append(kinds, kind)
			continue
		}
		if t, ok := tb.(*testing.T); ok {
			t.Run(kind, func(t *testing.T) { t.Skip(why) })
		} else {
			tb.Log(why)
		}
	}
	return kinds
}

// DSN creates a fresh, empty database of the given kind and returns its
// address for store.Open: a SQLite file in a temporary folder, or a
// randomly named PostgreSQL schema or MySQL database on the test server,
// dropped when the test ends. It skips the test, saying why, when the
// kind's server is not configured, and fails it when the server is
// configured but does not answer.
func DSN(tb testing.TB, kind string) string {
	tb.Helper()
	if why := unavailable(kind); why != "" {
		tb.Skip(why)
	}
	switch kind {
	case SQLite:
		return "sqlite:" + filepath.Join(tb.TempDir(), "picpool.db")
	case Postgres:
		return serverDB(tb, kind, os.Getenv(EnvPostgres))
	case MySQL:
		return serverDB(tb, kind, os.Getenv(EnvMySQL))
	default:
		tb.Fatalf("storetest: unknown database kind %q (want %q, %q or %q)", kind, SQLite, Postgres, MySQL)
		return ""
	}
}

// serverDB creates a schema (PostgreSQL) or database (MySQL) with a random
// name on the server at base, and returns the address that uses it.
func serverDB(tb testing.TB, kind, base string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sqlconn.Open(base)
	if err != nil {
		tb.Fatalf("storetest: %s=%s: %v", serverEnv[kind], sqlconn.Redact(base), err)
	}
	if err := admin.Ping(ctx); err != nil {
		admin.DB.Close()
		tb.Fatalf("storetest: %s is set but the server does not answer: %v", serverEnv[kind], err)
	}
	name := sqlconn.RandomName("picpool_test_")
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("storetest: %s: %v", serverEnv[kind], err)
	}
	var create, drop string
	switch kind {
	case Postgres:
		create, drop = "CREATE SCHEMA "+name, "DROP SCHEMA IF EXISTS "+name+" CASCADE"
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
	case MySQL:
		create = "CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
		drop = "DROP DATABASE IF EXISTS " + name
		u.Path = "/" + name
	}
	if _, err := admin.DB.ExecContext(ctx, create); err != nil {
		admin.DB.Close()
		tb.Fatalf("storetest: %s: %v", create, err)
	}
	tb.Cleanup(func() {
		defer admin.DB.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.DB.ExecContext(ctx, drop); err != nil {
			tb.Errorf("storetest: %s: %v", drop, err)
		}
	})
	return u.String()
}

// OpenDB opens a fresh database of the given kind (see DSN) through
// store.Open, migrations applied, and closes it when the test ends.
func OpenDB(tb testing.TB, kind string) *store.DB {
	tb.Helper()
	return Open(tb, DSN(tb, kind))
}

// Open opens the database at dsn through store.Open and closes it when the
// test ends: a second handle on a database from DSN, for instance.
func Open(tb testing.TB, dsn string) *store.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// FileBlobs returns a blob store on a fresh temporary folder, and the
// folder.
func FileBlobs(tb testing.TB) (store.Blobs, string) {
	tb.Helper()
	dir := tb.TempDir()
	b, err := store.OpenBlobs(context.Background(), "file:"+dir)
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	return b, dir
}

// S3 is a fake S3 server (gofakes3, in memory) on loopback, with a real
// aws-sdk-go-v2 client configured for it.
type S3 struct {
	// Endpoint is the server's base URL, for AWS_ENDPOINT_URL.
	Endpoint string
	// Client talks to it path-style, with static credentials.
	Client *s3.Client
}

// NewS3 starts a fake S3 server that stops when the test ends.
func NewS3(tb testing.TB) *S3 {
	tb.Helper()
	faker := gofakes3.New(s3mem.New())
	srv := httptest.NewServer(faker.Server())
	tb.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("picpool", "picpool-secret", ""),
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	return &S3{Endpoint: srv.URL, Client: client}
}

// CreateBucket creates a bucket on the fake server.
func (s *S3) CreateBucket(tb testing.TB, bucket string) {
	tb.Helper()
	if _, err := s.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		tb.Fatalf("storetest: create bucket %s: %v", bucket, err)
	}
}

// Blobs returns a blob store on bucket (which it creates) under prefix.
func (s *S3) Blobs(tb testing.TB, bucket, prefix string) store.Blobs {
	tb.Helper()
	s.CreateBucket(tb, bucket)
	return store.NewS3Blobs(s.Client, bucket, prefix)
}

// S3Blobs starts a fake S3 server and returns a blob store on its bucket
// "picpool", under the prefix "images".
func S3Blobs(tb testing.TB) store.Blobs {
	tb.Helper()
	return NewS3(tb).Blobs(tb, "picpool", "images")
}
