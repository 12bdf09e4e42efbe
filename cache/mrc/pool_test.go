package mrc

import (
	"math"
	"testing"
)

func TestPoolMissRatio(t *testing.T) {
	const c = 1 << 20
	knee := Curve{Requests: 100, Points: []Point{{c, 0.9}, {3 * c, 0}}}

	t.Run("three keys on two nodes: every way they can land", func(t *testing.T) {
		curve := knee
		curve.Keys = 3 // 1/(1/3 + 1/256) rounds to 3 units
		var want float64
		for assign := range 8 { // bit i: the node key i lands on
			k1 := (assign & 1) + (assign >> 1 & 1) + (assign >> 2 & 1)
			for _, k := range []int{k1, 3 - k1} {
				if k > 0 {
					want += float64(k) / 3 * curve.MissRatio(int64(3*c/k)) / 8
				}
			}
		}
		if got := curve.PoolMissRatio(2, c); math.Abs(got-want) > 1e-12 {
			t.Errorf("PoolMissRatio(2, 1 MiB) = %v, want %v", got, want)
		}
		if even := curve.MissRatio(2 * c); !(want > even) {
			t.Errorf("uneven spread predicted %v, not above the even spread's %v", want, even)
		}
	})
	t.Run("many keys spread about evenly", func(t *testing.T) {
		zipf := Curve{Requests: 100, Keys: 20_000, Points: []Point{{c, 0.6}, {64 * c, 0.2}}}
		for _, n := range []int{2, 4, 8} {
			if got, even := zipf.PoolMissRatio(n, c), zipf.MissRatio(int64(n)*c); math.Abs(got-even) > 0.005 {
				t.Errorf("%d nodes: %v, want about the even spread's %v", n, got, even)
			}
		}
	})
	t.Run("keys unknown or one node: the even spread", func(t *testing.T) {
		for _, tt := range []struct {
			keys  int64
			nodes int
		}{{0, 4}, {40, 1}, {0, 0}} {
			curve := knee
			curve.Keys = tt.keys
			if got, want := curve.PoolMissRatio(tt.nodes, c), curve.MissRatio(int64(max(tt.nodes, 1))*c); got != want {
				t.Errorf("%d keys, %d nodes: %v, want %v", tt.keys, tt.nodes, got, want)
			}
		}
	})
	t.Run("edges", func(t *testing.T) {
		if got := (Curve{Keys: 5}).PoolMissRatio(4, c); !math.IsNaN(got) {
			t.Errorf("a curve without points: %v, want NaN", got)
		}
		if got := knee.PoolMissRatio(4, 0); got != 1 {
			t.Errorf("nodes of 0 bytes: %v, want 1", got)
		}
		if got := knee.PoolMissRatio(8, math.MaxInt64/2); got != 0 {
			t.Errorf("nodes too large to add up: %v, want the last point's 0", got)
		}
	})
}
