package mrc

import (
	"math"
	"testing"
)

func TestCombine(t *testing.T) {
	a := Curve{Policy: "lru", Requests: 300, Points: []Point{{1000, 0.8}, {2000, 0.6}, {4000, 0.3}}}
	b := Curve{Policy: "lru", Requests: 100, Points: []Point{{1000, 0.4}, {4000, 0.2}}}

	t.Run("one node is its own pool", func(t *testing.T) {
		pool := Combine(a)
		for _, x := range []int64{500, 1000, 1500, 2000, 3000, 4000, 9000} {
			if got, want := pool.MissRatio(x), a.MissRatio(x); math.Abs(got-want) > simplifyTolerance {
				t.Errorf("MissRatio(%d) = %v, want %v", x, got, want)
			}
		}
		if pool.Requests != 300 || pool.Policy != "lru" {
			t.Errorf("pool of one: %d requests, policy %q; want 300, lru", pool.Requests, pool.Policy)
		}
	})
	t.Run("two nodes: each holds half the keys, weighted by requests", func(t *testing.T) {
		pool := Combine(a, b)
		// A pool of 4000 bytes is two nodes of 2000.
		for _, x := range []int64{2000, 3000, 4000, 6000, 8000, 16000} {
			want := (300*a.MissRatio(x/2) + 100*b.MissRatio(x/2)) / 400
			if got := pool.MissRatio(x); math.Abs(got-want) > simplifyTolerance {
				t.Errorf("MissRatio(%d) = %v, want %v", x, got, want)
			}
		}
		if pool.Requests != 400 {
			t.Errorf("Requests = %d, want 400", pool.Requests)
		}
	})
	t.Run("shares from the nodes' keys", func(t *testing.T) {
		a, b := a, b
		a.Keys, b.Keys = 30, 10
		pool := Combine(a, b)
		for _, x := range []int64{4000, 8000} {
			want := (300*a.MissRatio(x*3/4) + 100*b.MissRatio(x/4)) / 400
			if got := pool.MissRatio(x); math.Abs(got-want) > simplifyTolerance {
				t.Errorf("MissRatio(%d) = %v, want %v", x, got, want)
			}
		}
	})
	t.Run("a node's keys unknown: every node gets 1/n", func(t *testing.T) {
		a := a
		a.Keys = 30
		pool := Combine(a, b)
		want := (300*a.MissRatio(2000) + 100*b.MissRatio(2000)) / 400
		if got := pool.MissRatio(4000); math.Abs(got-want) > simplifyTolerance {
			t.Errorf("MissRatio(4000) = %v, want %v", got, want)
		}
	})
	t.Run("keys add up, if every node knows its own", func(t *testing.T) {
		a, b := a, b
		a.Keys, b.Keys = 30, 10
		if got := Combine(a, b).Keys; got != 40 {
			t.Errorf("Keys = %d, want 40", got)
		}
		b.Keys = 0
		if got := Combine(a, b).Keys; got != 0 {
			t.Errorf("Keys with one node's unknown = %d, want 0 (unknown)", got)
		}
		if got := Combine(a, Curve{Policy: "lru"}).Keys; got != 30 {
			t.Errorf("Keys with an idle node = %d, want 30", got)
		}
	})
	t.Run("a node without requests weighs nothing", func(t *testing.T) {
		idle := Curve{Policy: "lru"}
		pool := Combine(a, idle)
		if got, want := pool.MissRatio(4000), a.MissRatio(2000); math.Abs(got-want) > simplifyTolerance {
			t.Errorf("MissRatio(4000) = %v, want %v (node a at 2000 bytes)", got, want)
		}
	})
	t.Run("no requests at all: no points", func(t *testing.T) {
		pool := Combine(Curve{Policy: "sieve"}, Curve{Policy: "sieve"})
		if len(pool.Points) != 0 || pool.Requests != 0 || pool.Policy != "sieve" || !math.IsNaN(pool.MissRatio(1)) {
			t.Errorf("Combine of idle nodes = %+v, want no points, no requests, policy sieve", pool)
		}
		if empty := Combine(); len(empty.Points) != 0 || empty.Policy != "" {
			t.Errorf("Combine() = %+v, want an empty curve", empty)
		}
	})
	t.Run("mixed policies", func(t *testing.T) {
		s := b
		s.Policy = "sieve"
		for _, cs := range [][]Curve{{a, s}, {a, s, a}, {s, a, a}} {
			if p := Combine(cs...).Policy; p != "" {
				t.Errorf("policy of a pool of lru and sieve nodes = %q, want \"\"", p)
			}
		}
	})
}
