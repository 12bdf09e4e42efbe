package mrc

import (
	"math"
	"testing"
)

func TestDistinct(t *testing.T) {
	for _, n := range []int{1, 10, 100, 1000, 3000} {
		var a, b distinct
		for i := range n {
			h := mix(uint64(i) + 1)
			if i%2 == 0 {
				a.add(h)
			} else {
				b.add(h)
			}
			b.add(h) // b sees every key; a half of them
		}
		a.union(&b)
		if got := a.estimate(); math.Abs(got-float64(n)) > 0.06*float64(n)+1 {
			t.Errorf("%d distinct keys estimated as %.0f", n, got)
		}
	}
	var full distinct
	for i := range 100_000 {
		full.add(mix(uint64(i) + 1))
	}
	if got := full.estimate(); got < 5000 {
		t.Errorf("100,000 keys estimated as %.0f: a saturated bitmap should still say thousands", got)
	}
}
