package mrc

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGuidedFollowsTheBend: 24 images of about 100 KB read uniformly, on a
// node of 1 MiB. Between the miniature caches at 2 and 4 MiB the curve
// bends where the 24 images fit, at about 2.3 MiB, and a line between
// the two misses it by 0.1; the stack's shape puts the bend back.
func TestGuidedFollowsTheBend(t *testing.T) {
	for _, policy := range []string{"sieve", "sizelfu", "random"} {
		t.Run(policy, func(t *testing.T) {
			r, err := New(Options{Policy: policy, Capacity: 1 << 20, Seed: 9, Now: fixedClock})
			if err != nil {
				t.Fatal(err)
			}
			trace := record(r, rand.New(rand.NewPCG(9, 9)), "img:", 24, 8000)
			c := r.Curve()
			// The miniature caches' points alone, joined by lines.
			g, sum := r.m.(*guided), sumTallies(r)
			line := Curve{Points: g.mini.points(&tally{misses: sum.misses[g.lru.bins():]}, float64(c.Requests))}
			var worstLine float64
			for _, kib := range []int64{1536, 2304, 2560, 3072, 3584} {
				capacity := kib << 10
				want := simulatedMissRatio(t, policy, capacity, trace)
				if got := c.MissRatio(capacity); math.Abs(got-want) > 0.03 {
					t.Errorf("at %d KiB: curve %.3f, engine %.3f", kib, got, want)
				}
				worstLine = max(worstLine, math.Abs(line.MissRatio(capacity)-want))
			}
			if worstLine < 0.06 {
				t.Errorf("a line between the miniature caches is off by %.3f at most: this trace does not test the bend", worstLine)
			}
		})
	}
}

// sumTallies returns the window's counts, as Curve sums them.
func sumTallies(r *Recorder) *tally {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := tally{misses: make([]float64, len(r.tallies[0].misses))}
	for i := range r.tallies {
		r.tallies[i].addTo(&sum)
	}
	return &sum
}
