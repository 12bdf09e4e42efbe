package memproto

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClientVersions drives PicPool's versioned operations through the
// client against an authenticating server.
func TestClientVersions(t *testing.T) {
	addr, _ := startServer(t, Options{Token: "tok"})
	c := NewClient(addr, ClientOptions{Token: "tok"})
	defer c.Close()
	ctx := context.Background()
	set := func(version uint64, value string, want bool) {
		t.Helper()
		stored, err := c.Set(ctx, "img", version, []byte(value))
		if err != nil || stored != want {
			t.Fatalf("Set(img, %d, %q) = %v, %v; want %v", version, value, stored, err, want)
		}
	}
	get := func(wantValue string, wantVersion uint64) {
		t.Helper()
		v, version, hit, err := c.Get(ctx, "img")
		if err != nil || !hit || string(v) != wantValue || version != wantVersion {
			t.Fatalf("Get(img) = %q, %d, %v, %v; want %q, %d", v, version, hit, err, wantValue, wantVersion)
		}
	}
	set(5, "v5", true)
	set(4, "v4", false) // older: refused
	get("v5", 5)
	set(5, "v5 again", true) // the same version stores
	get("v5 again", 5)
	if err := c.Delete(ctx, "img", 9); err != nil {
		t.Fatal(err)
	}
	if _, _, hit, err := c.Get(ctx, "img"); hit || err != nil {
		t.Fatalf("Get after Delete: hit %v, %v", hit, err)
	}
	set(8, "v8", false) // below the tombstone
	set(9, "v9", true)
	get("v9", 9)
	if err := c.Delete(ctx, "never stored", 3); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	if stored, err := c.Set(ctx, "never stored", 2, []byte("old")); stored || err != nil {
		t.Fatalf("Set below the tombstone of a key never stored = %v, %v; want refused", stored, err)
	}
}

// TestClientPeekNotCounted checks that Peek is counted apart from hits
// and misses, in the server's stats as the client reads them.
func TestClientPeekNotCounted(t *testing.T) {
	addr, _ := startServer(t, Options{})
	c := NewClient(addr, ClientOptions{})
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Set(ctx, "k", 1, []byte("v")); err != nil {
		t.Fatal(err)
	}
	c.Get(ctx, "k")
	c.Get(ctx, "missing")
	for _, k := range []string{"k", "missing", "missing"} {
		if _, _, _, err := c.Peek(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	v, version, hit, err := c.Peek(ctx, "k")
	if err != nil || !hit || string(v) != "v" || version != 1 {
		t.Fatalf("Peek(k) = %q, %d, %v, %v", v, version, hit, err)
	}
	stats, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"get_hits": "1", "get_misses": "1", "cmd_get": "2", "peek_hits": "2", "peek_misses": "2"}
	for name, w := range want {
		if stats[name] != w {
			t.Errorf("stats %s = %q, want %q", name, stats[name], w)
		}
	}
}

// TestClientKeys checks keys memcached cannot carry as they are (spaces,
// control characters) go in base64, and keys no protocol carries fail.
func TestClientKeys(t *testing.T) {
	addr, _ := startServer(t, Options{})
	c := NewClient(addr, ClientOptions{})
	defer c.Close()
	ctx := context.Background()
	for _, key := range []string{"a key with spaces", "tab\there", "ünïcödé", strings.Repeat("é", MaxKeyBytes/2)} {
		if _, err := c.Set(ctx, key, 1, []byte(key)); err != nil {
			t.Fatalf("Set(%q): %v", key, err)
		}
		v, _, hit, err := c.Get(ctx, key)
		if err != nil || !hit || string(v) != key {
			t.Errorf("Get(%q) = %q, %v, %v", key, v, hit, err)
		}
	}
	for _, key := range []string{"", strings.Repeat("k", MaxKeyBytes+1)} {
		if _, _, _, err := c.Get(ctx, key); !errors.Is(err, ErrBadKey) {
			t.Errorf("Get of a %d-byte key: %v, want ErrBadKey", len(key), err)
		}
	}
}

// TestClientLargeValues sends and reads values past the copy threshold,
// which travel as their own writev segments both ways.
func TestClientLargeValues(t *testing.T) {
	addr, _ := startServer(t, Options{})
	c := NewClient(addr, ClientOptions{})
	defer c.Close()
	ctx := context.Background()
	for _, n := range []int{copyMax, copyMax + 1, 100 << 10, DefaultMaxValueBytes} {
		value := bytes.Repeat([]byte{byte(n)}, n)
		value[0], value[n-1] = 'a', 'z'
		if stored, err := c.Set(ctx, "big", uint64(n), value); !stored || err != nil {
			t.Fatalf("Set of %d bytes = %v, %v", n, stored, err)
		}
		buf := make([]byte, 0, 200<<10)
		got, _, hit, err := c.GetInto(ctx, "big", buf)
		if err != nil || !hit || !bytes.Equal(got, value) {
			t.Fatalf("GetInto of %d bytes: %d bytes, hit %v, %v", n, len(got), hit, err)
		}
	}
	_, err := c.Set(ctx, "big", 1, make([]byte, DefaultMaxValueBytes+1))
	var reply *ReplyError
	if !errors.As(err, &reply) || reply.Line != "SERVER_ERROR object too large for cache" {
		t.Fatalf("Set over the limit: %v, want the server's SERVER_ERROR", err)
	}
	if _, _, hit, err := c.Get(ctx, "big"); !hit || err != nil {
		t.Fatalf("Get after a refused set: hit %v, %v (the connection must be in step)", hit, err)
	}
}

// TestClientAuth checks a wrong token is ErrAuth and a right one works.
func TestClientAuth(t *testing.T) {
	addr, _ := startServer(t, Options{Token: "right"})
	bad := NewClient(addr, ClientOptions{Token: "wrong"})
	defer bad.Close()
	if _, _, _, err := bad.Get(context.Background(), "k"); !errors.Is(err, ErrAuth) {
		t.Fatalf("Get with a wrong token: %v, want ErrAuth", err)
	}
	none := NewClient(addr, ClientOptions{})
	defer none.Close()
	var reply *ReplyError
	if _, _, _, err := none.Get(context.Background(), "k"); !errors.As(err, &reply) || reply.Line != "CLIENT_ERROR unauthenticated" {
		t.Fatalf("Get without a token: %v, want CLIENT_ERROR unauthenticated", err)
	}
}

// TestClientPool checks concurrent requests share a bounded set of
// connections and see each other's writes.
func TestClientPool(t *testing.T) {
	addr, srv := startServer(t, Options{})
	c := NewClient(addr, ClientOptions{MaxIdle: 4})
	defer c.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				key := string(rune('a'+g)) + "key"
				if _, err := c.Set(ctx, key, uint64(i+1), []byte{byte(i)}); err != nil {
					errs <- err
					return
				}
				if v, version, hit, err := c.Get(ctx, key); err != nil || !hit || version != uint64(i+1) || v[0] != byte(i) {
					errs <- errors.New("a goroutine did not read its own write")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := srv.Stats().TotalConnections; n > 16 {
		t.Errorf("%d connections for 16 concurrent callers", n)
	}
	c.mu.Lock()
	idle := len(c.idle)
	c.mu.Unlock()
	if idle > 4 {
		t.Errorf("%d idle connections kept, MaxIdle 4", idle)
	}
}

// TestClientDeadlines checks a request to a server that never answers
// ends at the context's deadline, and at its cancellation.
func TestClientDeadlines(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts, reads, never answers
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer nc.Close(); nc.Read(make([]byte, 1<<16)); time.Sleep(time.Minute) }()
		}
	}()
	c := NewClient(ln.Addr().String(), ClientOptions{Timeout: time.Minute})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, _, err := c.Get(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get past the deadline: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Get took %v past a 100 ms deadline", d)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel2)
	if _, _, _, err := c.Get(ctx2, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get cancelled: %v, want context.Canceled", err)
	}
}

// TestClientAgainstMemcached checks the client's unversioned operations
// work against Debian's memcached with -Y authentication, and that a
// versioned set fails loudly there rather than losing its guarantee.
func TestClientAgainstMemcached(t *testing.T) {
	addr := startMemcached(t, "-Y", writeAuthFile(t, "picpool", "tok"))
	c := NewClient(addr, ClientOptions{Token: "tok"})
	defer c.Close()
	ctx := context.Background()
	if stored, err := c.Set(ctx, "a key", 0, []byte("value")); !stored || err != nil {
		t.Fatalf("Set = %v, %v", stored, err)
	}
	if v, _, hit, err := c.Get(ctx, "a key"); !hit || err != nil || string(v) != "value" {
		t.Fatalf("Get = %q, %v, %v", v, hit, err)
	}
	if err := c.Delete(ctx, "a key", 0); err != nil {
		t.Fatal(err)
	}
	if _, _, hit, err := c.Get(ctx, "a key"); hit || err != nil {
		t.Fatalf("Get after Delete: hit %v, %v", hit, err)
	}
	var reply *ReplyError
	if _, err := c.Set(ctx, "k", 7, []byte("v")); !errors.As(err, &reply) || reply.Line != "CLIENT_ERROR invalid flag" {
		t.Fatalf("versioned Set on memcached 1.6.18: %v, want CLIENT_ERROR invalid flag", err)
	}
	wrong := NewClient(addr, ClientOptions{Token: "nope"})
	defer wrong.Close()
	if _, _, _, err := wrong.Get(ctx, "k"); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong token on memcached: %v, want ErrAuth", err)
	}
}

// TestClientVersion: Version tells a stored item's version without its
// value, a miss as hit false, and a replaced item's new version.
func TestClientVersion(t *testing.T) {
	addr, _ := startServer(t, Options{})
	c := NewClient(addr, ClientOptions{})
	t.Cleanup(func() { c.Close() })
	ctx := t.Context()
	if _, hit, err := c.Version(ctx, "k"); hit || err != nil {
		t.Fatalf("Version of a missing key: hit %v, err %v", hit, err)
	}
	for _, v := range []uint64{7, 9} {
		if stored, err := c.Set(ctx, "k", v, []byte("value")); !stored || err != nil {
			t.Fatalf("Set v%d: %v %v", v, stored, err)
		}
		if got, hit, err := c.Version(ctx, "k"); got != v || !hit || err != nil {
			t.Fatalf("Version after Set v%d = %d, %v, %v", v, got, hit, err)
		}
	}
	if got, hit, err := c.Version(ctx, "a key with spaces"); hit || got != 0 || err != nil {
		t.Fatalf("Version of a missing base64 key = %d, %v, %v", got, hit, err)
	}
}
