package cache

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRandomEvictsUniformly fills an engine with n equal items, adds one
// more, and records which item was evicted, many times over. Each of the n
// must be picked about equally often (chi-squared test, seeded so the test
// is repeatable).
func TestRandomEvictsUniformly(t *testing.T) {
	const n, trials = 10, 20000
	v := []byte("value")
	counts := make([]int, n)
	rnd := rand.New(rand.NewPCG(42, 42))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	for range trials {
		e := newRandom(n*Cost("k0", v), rnd)
		for _, k := range keys {
			_ = e.Set(k, v)
		}
		_ = e.Set("kX", v)
		evicted := -1
		for i, k := range keys {
			if _, ok := e.Get(k); !ok {
				if evicted >= 0 {
					t.Fatalf("two items evicted to make room for one of equal size")
				}
				evicted = i
			}
		}
		if evicted < 0 {
			t.Fatal("nothing evicted from a full engine")
		}
		counts[evicted]++
	}
	expected := float64(trials) / n
	var chi2 float64
	for _, c := range counts {
		chi2 += (float64(c) - expected) * (float64(c) - expected) / expected
	}
	// 9 degrees of freedom: P(chi2 > 27.88) = 0.001.
	if chi2 > 27.88 {
		t.Fatalf("evictions %v are not uniform: chi2 = %.1f > 27.88", counts, chi2)
	}
}

// TestRandomSeededIsRepeatable: the same seed gives the same evictions,
// which is what makes the random policy testable.
func TestRandomSeededIsRepeatable(t *testing.T) {
	run := func() []string {
		e := newRandom(20*Cost("key-00", []byte("v")), rand.New(rand.NewPCG(7, 7)))
		for i := range 100 {
			_ = e.Set(fmt.Sprintf("key-%02d", i), []byte("v"))
		}
		var held []string
		for i := range 100 {
			if _, ok := e.Get(fmt.Sprintf("key-%02d", i)); ok {
				held = append(held, fmt.Sprintf("key-%02d", i))
			}
		}
		return held
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different contents:\n%q\n%q", a, b)
	}
	if len(a) != 20 {
		t.Fatalf("held %d items, want 20", len(a))
	}
}

// TestRandomHitRatioNearReference replays a Zipf trace through the engine
// and through an independent random-replacement simulator; with different
// random draws the hit ratios must agree within a point.
func TestRandomHitRatioNearReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	z := rand.NewZipf(r, 1.01, 1, 9999)
	value := make([]byte, 100)
	capacity := 1000 * Cost("img:0000", value)
	e := newRandom(capacity, rand.New(rand.NewPCG(5, 5)))
	ref := map[string]bool{}
	var refKeys []string
	refRand := rand.New(rand.NewPCG(6, 6))
	var hits, refHits int
	const requests = 200000
	for range requests {
		k := fmt.Sprintf("img:%04d", z.Uint64())
		if _, ok := e.Get(k); ok {
			hits++
		} else {
			_ = e.Set(k, value)
		}
		if ref[k] {
			refHits++
		} else {
			if len(refKeys) == 1000 {
				i := refRand.IntN(len(refKeys))
				delete(ref, refKeys[i])
				refKeys[i] = refKeys[len(refKeys)-1]
				refKeys = refKeys[:len(refKeys)-1]
			}
			ref[k] = true
			refKeys = append(refKeys, k)
		}
	}
	got, want := float64(hits)/requests, float64(refHits)/requests
	if math.Abs(got-want) > 0.01 {
		t.Fatalf("hit ratio %.4f, reference %.4f: more than a point apart", got, want)
	}
}
