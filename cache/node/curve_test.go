package node

import (
	"bytes"
	"math"
	"net/http"
	"strconv"
	"testing"

	"github.com/picpool/picpool/cache/memproto"
)

// TestNodeCurve: the node's lookups through its client draw its curve,
// served at /v1/curve behind the token; a set no miss announced adds
// nothing; a drop of partitions and a new configuration start it over.
func TestNodeCurve(t *testing.T) {
	tn := startNode(t, Options{Config: Config{Capacity: 1 << 20, Policy: "lru"}})
	ctx := t.Context()
	if code, _, _ := tn.request(t, http.MethodGet, "/v1/curve", "", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/curve without the token: %d, want 401", code)
	}
	value := bytes.Repeat([]byte("x"), 100_000)
	if _, _, hit, err := tn.client.Get(ctx, "cat"); hit || err != nil {
		t.Fatalf("Get on an empty node: hit %v, err %v", hit, err)
	}
	if stored, err := tn.client.Set(ctx, "cat", 1, value); !stored || err != nil {
		t.Fatalf("Set: stored %v, err %v", stored, err)
	}
	for range 3 {
		if _, _, hit, err := tn.client.Get(ctx, "cat"); !hit || err != nil {
			t.Fatalf("Get: hit %v, err %v", hit, err)
		}
	}
	// Moved in (or set by a tool): no lookup missed it.
	if stored, err := tn.client.Set(ctx, "dog", 1, value); !stored || err != nil {
		t.Fatalf("Set dog: stored %v, err %v", stored, err)
	}
	c, err := tn.client.Curve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy != "lru" || c.Requests != 4 || c.Keys != 1 {
		t.Errorf("curve: policy %q, %d requests, %d keys; want lru, 4 (a miss and 3 hits of cat), 1", c.Policy, c.Requests, c.Keys)
	}
	// One miss in four whenever the item fits; every request misses when
	// it does not.
	if got := c.MissRatio(4 << 20); math.Abs(got-0.25) > 1e-9 {
		t.Errorf("miss ratio at 4 MiB = %v, want 0.25", got)
	}
	if got := c.MissRatio(64 << 10); got != 1 {
		t.Errorf("miss ratio at 64 KiB (smaller than the item) = %v, want 1", got)
	}

	if _, err := tn.client.DropPartitions(ctx, "rendezvous", []int{0}); err != nil {
		t.Fatal(err)
	}
	if c := tn.Curve(); c.Requests != 0 {
		t.Errorf("after a drop of partitions the curve has %d requests, want 0 (started over)", c.Requests)
	}
	tn.client.Get(ctx, "cat")
	if err := tn.client.Configure(ctx, tn.Config()); err != nil {
		t.Fatal(err)
	}
	if c := tn.Curve(); c.Requests != 1 {
		t.Errorf("after the same configuration again the curve has %d requests, want 1 (kept)", c.Requests)
	}
	if err := tn.client.Configure(ctx, Config{Capacity: 2 << 20, Policy: "sieve"}); err != nil {
		t.Fatal(err)
	}
	if c := tn.Curve(); c.Requests != 0 || c.Policy != "sieve" {
		t.Errorf("after a new configuration: %d requests, policy %q; want 0 and sieve", c.Requests, c.Policy)
	}
	// The bound: 1 % of the capacity. (A small node of another policy
	// than lru is over it: its seven miniature caches take some 300 KB
	// empty; see mrc.Recorder.Memory.)
	if err := tn.client.Configure(ctx, Config{Capacity: 64 << 20, Policy: "lru"}); err != nil {
		t.Fatal(err)
	}
	for i := range 20_000 {
		key := "k" + strconv.Itoa(i)
		if it, ok := tn.store.Get(key, false); ok {
			it.Value.Release()
		}
		tn.set(key, 1, memproto.Value{B: make([]byte, 50_000)})
	}
	if m, limit := tn.CurveMemory(), int64(64<<20)/100; m <= 0 || m > limit {
		t.Errorf("curve memory after 20,000 keys: %d bytes, want at most 1 %% of 64 MiB, %d", m, limit)
	}
}
