package pool

import (
	"context"
	"fmt"
	"math"
	"testing"
)

// TestPoolCurve: the owner combines its nodes' curves into the pool's.
// 40 keys on 2 nodes, each looked up twice (a miss, then a hit): the
// pool's curve counts the 80 lookups of the 40 keys and, at a capacity
// that holds them all, predicts one miss in two.
func TestPoolCurve(t *testing.T) {
	tp := newTestPool(t, 2, "", 1<<20)
	ctx := t.Context()
	for round := range 2 {
		for i := range 40 {
			key := fmt.Sprintf("key-%d", i)
			_, _, hit, err := tp.GetOrLoad(ctx, key, func(context.Context) ([]byte, uint64, error) { return value(i), 1, nil })
			if err != nil || hit != (round == 1) {
				t.Fatalf("round %d, %s: hit %v, err %v", round, key, hit, err)
			}
		}
	}
	c, err := tp.Curve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy != "lru" || c.Requests != 80 || c.Keys < 36 || c.Keys > 44 {
		t.Errorf("pool curve: policy %q, %d requests, %d keys; want lru, 80, about 40", c.Policy, c.Requests, c.Keys)
	}
	if got := c.MissRatio(8 << 20); math.Abs(got-0.5) > 1e-9 {
		t.Errorf("pool miss ratio at 8 MiB = %v, want 0.5", got)
	}
	if got := c.PoolMissRatio(2, 1<<20); math.Abs(got-0.5) > 1e-9 {
		t.Errorf("predicted miss ratio of the 2 nodes = %v, want 0.5", got)
	}

	if err := tp.local.Kill(tp.Table().Members[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := tp.Curve(ctx); err == nil {
		t.Error("Curve with a node down: no error; want one naming the node")
	}
}
