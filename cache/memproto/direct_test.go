package memproto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

func newTestBackend(t *testing.T, policy string, capacity int64) *EngineBackend {
	t.Helper()
	b, err := NewEngineBackend(policy, capacity, EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func alloc(t *testing.T, b *EngineBackend, s string) Value {
	t.Helper()
	v, err := b.Alloc(len(s))
	if err != nil {
		t.Fatal(err)
	}
	copy(v.B, s)
	return v
}

// held returns key's value and CAS, or "" and 0.
func held(b *EngineBackend, key string) (string, uint64) {
	it, ok := b.Get(key, true)
	if !ok {
		return "", 0
	}
	defer it.Value.Release()
	return string(it.Value.B), it.CAS
}

// The writes a node makes without the wire follow the meta commands'
// rules: versions only go up, tombstones keep older versions out, and
// KeepOut drops an older item but keeps a newer one.
func TestDirectVersionedWrites(t *testing.T) {
	b := newTestBackend(t, "lru", 1<<20)
	s := NewServer(b, Options{})
	steps := []struct {
		name       string
		do         func() (bool, error)
		wantResult bool
		wantValue  string
		wantCAS    uint64
	}{
		{"set v3", func() (bool, error) { return s.SetVersion("k", 3, alloc(t, b, "three")) }, true, "three", 3},
		{"older v2 refused", func() (bool, error) { return s.SetVersion("k", 2, alloc(t, b, "two")) }, false, "three", 3},
		{"equal v3 stores", func() (bool, error) { return s.SetVersion("k", 3, alloc(t, b, "THREE")) }, true, "THREE", 3},
		{"delete at v6", func() (bool, error) { return s.DeleteVersion("k", 6) }, true, "", 0},
		{"v5 below the tombstone", func() (bool, error) { return s.SetVersion("k", 5, alloc(t, b, "five")) }, false, "", 0},
		{"v6 stores", func() (bool, error) { return s.SetVersion("k", 6, alloc(t, b, "six")) }, true, "six", 6},
		{"keep out v5 keeps v6", func() (bool, error) { return true, s.KeepOut("k", 5) }, true, "six", 6},
		{"keep out v9 drops v6", func() (bool, error) { return true, s.KeepOut("k", 9) }, true, "", 0},
		{"v8 below it", func() (bool, error) { return s.SetVersion("k", 8, alloc(t, b, "eight")) }, false, "", 0},
		{"delete of nothing", func() (bool, error) { return s.DeleteVersion("k", 1) }, false, "", 0},
	}
	for _, st := range steps {
		got, err := st.do()
		if err != nil || got != st.wantResult {
			t.Fatalf("%s: got %v, %v; want %v", st.name, got, err, st.wantResult)
		}
		if v, cas := held(b, "k"); v != st.wantValue || cas != st.wantCAS {
			t.Fatalf("%s: holds %q at %d; want %q at %d", st.name, v, cas, st.wantValue, st.wantCAS)
		}
	}
	var tombs []uint64
	b.Tombstones(func(key string, version uint64) bool {
		if key == "k" {
			tombs = append(tombs, version)
		}
		return true
	})
	if len(tombs) != 1 || tombs[0] != 9 {
		t.Errorf("tombstones of k: %v, want [9]", tombs)
	}
	if _, err := s.SetVersion("big", 10, alloc(t, b, string(make([]byte, 2<<20)))); !errors.Is(err, ErrNoMemory) {
		t.Errorf("a value over the capacity: %v, want ErrNoMemory", err)
	}
}

// Configure changes the capacity in place and moves the items that fit to
// an engine of a new policy, keeping their metadata and tombstones.
func TestConfigure(t *testing.T) {
	b := newTestBackend(t, "lru", 1<<20)
	s := NewServer(b, Options{})
	for i, k := range []string{"a", "b", "c"} {
		if ok, err := s.SetVersion(k, uint64(10+i), alloc(t, b, k+k)); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	s.DeleteVersion("gone", 7)
	if err := b.Configure(2<<20, "sieve"); err != nil {
		t.Fatal(err)
	}
	st := b.Stats()
	if st.Policy != "sieve" || st.LimitBytes != 2<<20 || st.Items != 3 || st.Tombstones != 1 {
		t.Errorf("after a switch: %+v; want sieve, 2 MiB, 3 items, 1 tombstone", st)
	}
	if v, cas := held(b, "b"); v != "bb" || cas != 11 {
		t.Errorf("b after the switch: %q at %d", v, cas)
	}
	if err := b.Configure(0, "sieve"); err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Items != 0 || st.LimitBytes != 0 {
		t.Errorf("at capacity 0: %+v", st)
	}
	if err := b.Configure(1, "nope"); err == nil {
		t.Error("an unknown policy was taken")
	}
}

// frozen accepts connections and never answers, as a stopped server.
func frozen(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln.Addr().String()
}

// With MinRate, a request to a frozen server fails after Timeout plus the
// time its value takes at that rate, and no later.
func TestClientMinRate(t *testing.T) {
	c := NewClient(frozen(t), ClientOptions{Timeout: 100 * time.Millisecond, MinRate: 10 << 20})
	defer c.Close()
	start := time.Now()
	_, err := c.Set(context.Background(), "k", 1, make([]byte, 5<<20)) // 0.1 s + 0.5 s
	took := time.Since(start)
	if !errors.Is(err, os.ErrDeadlineExceeded) || took < 550*time.Millisecond || took > 2*time.Second {
		t.Errorf("set to a frozen server: %v after %v; want a deadline after about 0.6 s", err, took)
	}
	start = time.Now()
	_, _, _, err = c.Get(context.Background(), "k")
	if took := time.Since(start); !errors.Is(err, os.ErrDeadlineExceeded) || took > time.Second {
		t.Errorf("get from a frozen server: %v after %v; want a deadline after about 0.1 s", err, took)
	}
}

// Tombstones are bounded in number (the oldest go first) and in time.
func TestTombstonesAreBounded(t *testing.T) {
	const bound = 100
	ts := newTombstoneSet(bound)
	now := time.Now()
	for i := range bound + 10 {
		ts.record(fmt.Sprint(i), 5, now, time.Minute)
	}
	if n := ts.count(); n > bound {
		t.Fatalf("%d tombstones kept, bound %d", n, bound)
	}
	if ts.version(fmt.Sprint(bound+9), now) != 5 {
		t.Fatal("newest tombstone dropped")
	}
	if ts.version("0", now) != 0 {
		t.Fatal("oldest tombstone kept past the bound")
	}
	if ts.version(fmt.Sprint(bound+9), now.Add(2*time.Minute)) != 0 {
		t.Fatal("expired tombstone still stands")
	}
}
