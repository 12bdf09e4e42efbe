package mrc

import (
	"math/rand/v2"
	"testing"
)

func TestFenwick(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 64, 100} {
		values := make([]int64, n)
		for i := range values {
			values[i] = r.Int64N(1000)
		}
		clear(values[n/2:]) // the rest start at 0
		f := make(fenwick, n)
		copy(f, values)
		f.build()
		for range 200 {
			i, v := r.IntN(n), r.Int64N(2000)-1000
			f.add(i, v)
			values[i] += v
			j := r.IntN(n)
			var want int64
			for _, x := range values[:j+1] {
				want += x
			}
			if got := f.prefix(j); got != want {
				t.Fatalf("n=%d: prefix(%d) = %d, want %d", n, j, got, want)
			}
		}
	}
}
