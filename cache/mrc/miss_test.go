package mrc

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMissThenFillIsRecord: a lookup recorded as a miss and then filled
// with its value's size draws the same curve as one Record call, for
// every policy and at a sampling rate below 1.
func TestMissThenFillIsRecord(t *testing.T) {
	for _, policy := range []string{"lru", "sieve"} {
		t.Run(policy, func(t *testing.T) {
			opts := Options{Policy: policy, Capacity: 1 << 20, Seed: 7, Now: fixedClock, MaxMemory: 4 << 10}
			whole, _ := New(opts)
			halves, _ := New(opts)
			rng := rand.New(rand.NewPCG(1, 2))
			for range 20_000 {
				k := rng.IntN(2000)
				key, size := fmt.Sprintf("k%04d", k), int64(1000+k*10)
				whole.Record(key, size)
				halves.Miss(key)
				halves.Fill(key, size)
			}
			if whole.Rate() >= 1 {
				t.Fatalf("rate %v: the test wants a sample, not every key", whole.Rate())
			}
			if diff := cmp.Diff(whole.Curve(), halves.Curve()); diff != "" {
				t.Errorf("Miss+Fill curve differs from Record's (-Record +Miss/Fill):\n%s", diff)
			}
		})
	}
}

// TestFillWithoutMissAndMissWithoutFill: a fill no miss announced (an
// entry moved in) records nothing; a sampled miss no fill follows (an
// absent image) is left out.
func TestFillWithoutMissAndMissWithoutFill(t *testing.T) {
	r, _ := New(Options{Capacity: 1 << 20, Seed: 1, Now: fixedClock})
	r.Fill("moved", 1000)
	if c := r.Curve(); c.Requests != 0 {
		t.Errorf("after a Fill alone the curve has %d requests, want 0", c.Requests)
	}
	r.Miss("absent") // rate 1: sampled
	if c := r.Curve(); c.Requests != 0 {
		t.Errorf("after a Miss alone the curve has %d requests, want 0", c.Requests)
	}
	r.Fill("absent", 1000)
	r.Fill("absent", 1000) // the second finds nothing waiting
	if c := r.Curve(); c.Requests != 1 || len(c.Points) == 0 {
		t.Errorf("after Miss, Fill, Fill the curve has %d requests and %d points, want 1 and some", c.Requests, len(c.Points))
	}
}
