package mrc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// skewedTrace is n requests over keys keys named by format (a "%d" verb),
// popularity skewed (the square of a uniform draw), each key's size drawn
// once by size.
func skewedTrace(seed uint64, keys, n int, format string, size func(*rand.Rand) int) []sim.Request {
	r := rand.New(rand.NewPCG(seed, 3))
	sizes := make([]int, keys)
	for i := range sizes {
		sizes[i] = size(r)
	}
	trace := make([]sim.Request, n)
	for i := range trace {
		u := r.Float64()
		k := int(u * u * float64(keys))
		trace[i] = sim.Request{Key: fmt.Sprintf(format, k), Size: sizes[k]}
	}
	return trace
}

// smallTrace is a skewed trace of items of 5–50 KB.
func smallTrace(seed uint64, keys, n int) []sim.Request {
	return skewedTrace(seed, keys, n, "img:%05d", func(r *rand.Rand) int { return 5_000 + r.IntN(45_000) })
}

func simulatedMissRatio(t *testing.T, policy string, capacity int64, trace []sim.Request) float64 {
	t.Helper()
	res, err := sim.Simulate([]string{policy}, capacity, trace, 0)
	if err != nil {
		t.Fatal(err)
	}
	return 1 - res[0].HitRatio()
}

// TestStackIsExactLRU checks that, sampling every key, the lru curve is
// the miss ratio of an LRU engine at each of its points, exactly, and
// within the simplification's tolerance between them. Items are all
// smaller than the smallest point, which no engine would refuse.
func TestStackIsExactLRU(t *testing.T) {
	trace := smallTrace(1, 300, 6000)
	// A key that changes size is a new object: a miss at any capacity.
	trace = append(trace, sim.Request{Key: trace[0].Key, Size: trace[0].Size + 1}, trace[0])
	const capacity = 1 << 20
	r, err := New(Options{Policy: "lru", Capacity: capacity, MaxMemory: 1 << 20, Seed: 5, Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range trace {
		r.Record(q.Key, int64(q.Size))
	}
	if r.Rate() != 1 {
		t.Fatalf("rate %v, want 1: the budget fits every key", r.Rate())
	}
	c := r.Curve()
	if c.Requests != int64(len(trace)) || c.Policy != "lru" {
		t.Fatalf("curve of %d requests for %q, want %d for lru", c.Requests, c.Policy, len(trace))
	}
	for _, p := range c.Points {
		if want := simulatedMissRatio(t, "lru", p.Capacity, trace); math.Abs(p.MissRatio-want) > 1e-12 {
			t.Errorf("point at %d bytes: miss ratio %v, LRU engine %v", p.Capacity, p.MissRatio, want)
		}
	}
	for _, e := range r.m.(*stack).edges {
		if want := simulatedMissRatio(t, "lru", e, trace); math.Abs(c.MissRatio(e)-want) > simplifyTolerance+1e-12 {
			t.Errorf("at %d bytes: curve %v, LRU engine %v", e, c.MissRatio(e), want)
		}
	}
	if len(c.Points) < 10 || len(c.Points) > 40 {
		t.Errorf("%d points, want 10 to 40: a curve this shape needs some, and flat stretches cost none", len(c.Points))
	}
}

// TestStackCompactKeepsDistances runs a trace long enough to renumber
// positions many times, with few keys, against the engine.
func TestStackCompactKeepsDistances(t *testing.T) {
	trace := smallTrace(2, 40, 20000)
	s := newStack(1<<20, 4)
	tl := tally{misses: make([]float64, s.bins())}
	for _, q := range trace {
		s.access(hashKey(1, q.Key), int64(len(q.Key)+q.Size+cache.ItemOverhead), 1, false, &tl)
	}
	if len(s.at) > 2*40 {
		t.Errorf("%d positions for 40 keys: compaction should keep them under twice the keys", len(s.at))
	}
	c := Curve{Requests: int64(len(trace)), Points: s.points(&tl, float64(len(trace)))}
	for _, capacity := range []int64{256 << 10, 512 << 10, 1 << 20} {
		if got, want := c.MissRatio(capacity), simulatedMissRatio(t, "lru", capacity, trace); math.Abs(got-want) > simplifyTolerance {
			t.Errorf("at %d bytes: curve %v, LRU engine %v", capacity, got, want)
		}
	}
}
