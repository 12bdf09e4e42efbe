package mrc

import (
	"fmt"
	"math"
	"testing"
)

// TestSampling checks that a threshold samples its share of keys, for
// keys alike but for a counter (as image keys are), and that another seed
// samples other keys.
func TestSampling(t *testing.T) {
	const keys = 200_000
	for _, rate := range []float64{1, 0.5, 1.0 / 8, 1.0 / 64} {
		thr := uint64(rate * fullRate)
		var n, both int
		for i := range keys {
			k := fmt.Sprintf("img:%07d", i)
			if sampled(hashKey(1, k), thr) {
				n++
				if sampled(hashKey(2, k), thr) {
					both++
				}
			}
		}
		// Binomial: 5 standard deviations either side.
		sd := math.Sqrt(keys * rate * (1 - rate))
		if got := float64(n); math.Abs(got-keys*rate) > 5*sd+1 {
			t.Errorf("rate %v: sampled %d of %d keys, want %.0f ± %.0f", rate, n, keys, keys*rate, 5*sd)
		}
		// Under another seed the sample is independent: rate² of the keys are in both.
		want := keys * rate * rate
		if rate < 1 && math.Abs(float64(both)-want) > 5*math.Sqrt(want)+1 {
			t.Errorf("rate %v: %d keys sampled under both seeds, want about %.0f", rate, both, want)
		}
	}
	if first, again := hashKey(1, "img:0000001"), hashKey(1, "img:0000001"); first != again {
		t.Fatal("the same key and seed hashed twice differ")
	}
}

// TestHashKeyLengths checks that every byte of keys of every length up to
// a few words reaches the hash: changing any one byte changes it.
func TestHashKeyLengths(t *testing.T) {
	for n := range 40 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + i%26)
		}
		base := hashKey(9, string(b))
		for i := range b {
			c := append([]byte(nil), b...)
			c[i] ^= 1
			if hashKey(9, string(c)) == base {
				t.Errorf("length %d: flipping a bit of byte %d left the hash unchanged", n, i)
			}
		}
		if hashKey(9, string(b)+"\x00") == base {
			t.Errorf("length %d: a trailing zero byte left the hash unchanged", n)
		}
	}
}
