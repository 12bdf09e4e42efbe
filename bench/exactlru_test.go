package main

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// TestExactLRU walks the reference through evictions worked out by hand,
// over both recency orders it is built on.
func TestExactLRU(t *testing.T) {
	for name, build := range map[string]func(int64) (*exactLRU, error){
		"container/list": func(c int64) (*exactLRU, error) { return newExactLRU(c), nil },
		"simplelru":      newLRUBytes,
	} {
		t.Run(name, func(t *testing.T) {
			// Keys of one byte and values of 36: each item costs 1+36+64 = 101
			// bytes, so four fit in 404.
			l, err := build(404)
			if err != nil {
				t.Fatal(err)
			}
			v := make([]byte, 36)
			for _, k := range []string{"a", "b", "c", "d"} {
				if err := l.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			l.Get("a")                       // order, newest first: a d c b
			l.Set("e", v)                    // evicts b: e a d c
			l.Set("c", make([]byte, 36+101)) // c replaced by one of two items' cost: evicts d; c e a
			if err := l.Set("x", make([]byte, 404)); !errors.Is(err, cache.ErrTooLarge) {
				t.Fatalf("Set of an item above the capacity: err = %v, want ErrTooLarge", err)
			}
			var held []string
			for _, k := range []string{"a", "b", "c", "d", "e", "x"} {
				if _, ok := l.Get(k); ok {
					held = append(held, k)
				}
			}
			if diff := cmp.Diff([]string{"a", "c", "e"}, held); diff != "" {
				t.Errorf("held (-want +got):\n%s", diff)
			}
			if l.size != 101+202+101 {
				t.Errorf("size = %d, want 404", l.size)
			}
		})
	}
}

// TestLRUsAgree replays one image trace through picpool's lru, the
// reference and golang-lru with its byte bound: exact LRUs all, they must
// hit the same requests. This is the check bench:engines makes, small.
func TestLRUsAgree(t *testing.T) {
	trace, err := imageTrace(2000, 20_000, 3)
	if err != nil {
		t.Fatal(err)
	}
	var lrus []contender
	for _, c := range contenders() {
		if c.name == "picpool-lru" || c.name == "naive-lru" || c.name == "golang-lru" {
			lrus = append(lrus, c)
		}
	}
	if len(lrus) != 3 {
		t.Fatalf("found %d of the three LRUs among the contenders", len(lrus))
	}
	caps := []int64{8 << 20, 32 << 20}
	var results [][]sim.Result
	for _, capacity := range caps {
		res, err := replayAll(t.Context(), lrus, trace, capacity)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
		for _, r := range res[1:] {
			if r.Hits != res[0].Hits || r.HitBytes != res[0].HitBytes {
				t.Errorf("at %s: %s hit %d (%d bytes), %s %d (%d bytes)", mib(capacity), res[0].Policy, res[0].Hits, res[0].HitBytes, r.Policy, r.Hits, r.HitBytes)
			}
		}
		if res[0].Hits == 0 || res[0].Hits == res[0].Requests {
			t.Errorf("at %s: %d hits of %d requests: the trace does not tell policies apart", mib(capacity), res[0].Hits, res[0].Requests)
		}
	}
	if d, err := lruCheck(results, caps); d != 0 || err != nil {
		t.Errorf("lruCheck = %v, %v; want 0, nil", d, err)
	}
}

// TestLRUCheckCatchesADifference feeds the check an lru one hit short of
// the reference: it must say so, and where.
func TestLRUCheckCatchesADifference(t *testing.T) {
	ref := sim.Result{Policy: "naive-lru", Requests: 100, Hits: 50, Bytes: 1000, HitBytes: 500}
	same := ref
	same.Policy = "picpool-lru"
	short := same
	short.Hits, short.HitBytes = 49, 490
	d, err := lruCheck([][]sim.Result{{same, ref}, {short, ref}}, []int64{256 << 20, 1 << 30})
	if math.Abs(d+1) > 1e-9 {
		t.Errorf("difference = %v points, want -1", d)
	}
	want := "lru check: at 1 GiB picpool-lru hit 49 times (490 bytes), the exact LRU 50 times (500 bytes)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}
