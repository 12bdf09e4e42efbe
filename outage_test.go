package main

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/picpool/picpool/internal/tcpproxy"
	"github.com/picpool/picpool/store/storetest"
)

// TestDatabaseDown runs `picpool dev` on PostgreSQL through a TCP proxy and
// cuts the proxy: uploads fail with a clear 503 and change nothing, cached
// images are still served, and once the database is back the old image is
// intact and uploads work again.
func TestDatabaseDown(t *testing.T) {
	dsn := storetest.DSN(t, storetest.Postgres) // skips, saying why, without PICPOOL_TEST_POSTGRES
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := tcpproxy.Start(t, u.Host)
	u.Host = proxy.Addr()
	base, _ := startDev(t, "--db", u.String())

	old := pngOf(t, 21, 21)
	if r := apiCall(t, base, "/api/upload", map[string]string{"key": "kept"}, old); r.status != 200 {
		t.Fatalf("upload: %v", r)
	}
	apiCall(t, base, "/api/key/kept", nil, nil) // now cached

	proxy.Cut()
	r := apiCall(t, base, "/api/upload", map[string]string{"key": "kept"}, pngOf(t, 22, 22))
	const unavailable = `{"success":"false","error":{"code":503,"message":"Storage is unavailable right now; nothing was changed. Please try again in a moment."}}` + "\n"
	if r.raw != unavailable {
		t.Fatalf("upload with the database down: %v, want %s", r, unavailable)
	}
	if r := apiCall(t, base, "/api/key/kept", nil, nil); r.status != 200 || r.cache != "HIT" {
		t.Fatalf("a cached image with the database down: %v (X-Cache %s), want a hit", r, r.cache)
	}
	if r := apiCall(t, base, "/api/key/never-cached", nil, nil); r.raw != unavailable {
		t.Fatalf("an uncached key with the database down: %v, want %s", r, unavailable)
	}

	proxy.Restore(t)
	if r := apiCall(t, base, "/api/key/kept", nil, nil); r.status != 200 {
		t.Fatalf("after the outage: %v", r)
	}
	got := apiCall(t, base, "/api/key/kept", nil, nil)
	if got.body["content"] != base64.StdEncoding.EncodeToString(old) {
		t.Fatal("the failed upload changed the stored image")
	}
	if r := apiCall(t, base, "/api/upload", map[string]string{"key": "kept"}, pngOf(t, 23, 23)); r.status != 200 {
		t.Fatalf("upload after the outage: %v", r)
	}
}

// TestDatabaseFrozen is the regression test of the review's item 10: a
// database that accepts connections but never answers hung /keys for over
// 40 s and configure_cache for over 30 s. Every request that needs it now
// answers within 5 s, with 503 on the test API.
func TestDatabaseFrozen(t *testing.T) {
	dsn := storetest.DSN(t, storetest.Postgres) // skips, saying why, without PICPOOL_TEST_POSTGRES
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := tcpproxy.Start(t, u.Host)
	u.Host = proxy.Addr()
	s := startDevServers(t, "--db", u.String())
	proxy.Freeze()
	defer proxy.Thaw()
	for _, base := range []string{s.gallery, s.manager} {
		for _, route := range []string{"/api/list_keys", "/api/key/nothing-cached", "/api/configure_cache?numNodes=2", "/api/delete_all"} {
			start := time.Now()
			r := apiCall(t, base, route, map[string]string{}, nil)
			if took := time.Since(start); took > 5*time.Second || r.status != http.StatusServiceUnavailable {
				t.Errorf("%s%s with the database frozen: %v after %v, want 503 within 5 s", base, route, r, took.Round(time.Millisecond))
			}
		}
	}
	start := time.Now()
	resp, err := http.Get(s.gallery + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(raw)
	if took := time.Since(start); took > 5*time.Second || !strings.Contains(body, "Storage is unavailable") {
		t.Errorf("/keys with the database frozen answered after %v: %d, want the storage error within 5 s", took.Round(time.Millisecond), resp.StatusCode)
	}
}
