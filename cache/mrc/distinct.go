package mrc

import (
	"math"
	"math/bits"
)

// distinct estimates how many distinct sampled keys a sub-window saw, by
// linear counting (Whang et al., 1990): each key sets one bit of a small
// bitmap, and n keys leave about m·e^(-n/m) of its m bits clear. The pool
// needs the count only when it is small (a few keys spread unevenly over
// nodes, see Combine and Curve.PoolMissRatio), so 4096 bits do: they
// count to some 30,000 within a few percent, and past that the estimate is
// only a lower bound.
type distinct [distinctBits / 64]uint64

const distinctBits = 4096

// add records a key by its hash, from bits that neither the sampling test
// (the top 32) nor the request counter's stripes (the low 3) use.
func (d *distinct) add(h uint64) {
	i := (h >> 3) % distinctBits
	d[i/64] |= 1 << (i % 64)
}

// union adds o's keys to d.
func (d *distinct) union(o *distinct) {
	for i := range d {
		d[i] |= o[i]
	}
}

// estimate returns the number of distinct keys added.
func (d *distinct) estimate() float64 {
	set := 0
	for _, w := range d {
		set += bits.OnesCount64(w)
	}
	clearBits := float64(distinctBits - set)
	if clearBits == 0 {
		clearBits = 0.5 // saturated: a lower bound
	}
	return distinctBits * math.Log(distinctBits/clearBits)
}
