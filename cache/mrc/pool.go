package mrc

import (
	"math"

	"github.com/picpool/picpool/cache/partition"
)

// PoolMissRatio returns the expected miss ratio of a pool of nodes nodes
// of nodeCapacity bytes each, from a pool's curve (see Combine).
//
// MissRatio(nodes × nodeCapacity) would be right if the keys spread evenly
// over the nodes. Hashing spreads them only about evenly: a node with
// more than its share of the keys misses more, one with fewer misses
// less, and where the curve bends (a working set that about fits) the
// first loses more than the second gains. So, with U units of keys that
// land on a node independently, each with probability 1/nodes, a node
// that got k of them is a sample of rate k/U of the pool's traffic: it
// takes about k/U of the requests and misses as the pool would at
// nodeCapacity·U/k bytes. The expectation over k, binomial, is
//
//	nodes · Σ_k P(k) · (k/U) · MissRatio(nodeCapacity·U/k)
//
// U is the curve's Keys, but keys move in partitions (256 of them, the
// default partitioner's), so it is 1/(1/Keys + 1/256): 40 images are 35
// units, and 20,000 are 253. With Keys unknown (0) or one node, it is
// MissRatio(nodes × nodeCapacity). The pool's actual miss ratio is one
// draw of the spread: for 40 images on 4 nodes it varies about ±0.05
// around this expectation.
func (c Curve) PoolMissRatio(nodes int, nodeCapacity int64) float64 {
	if nodeCapacity <= 0 {
		return c.MissRatio(0) // every request misses, if there were any
	}
	if nodes <= 1 || c.Keys <= 0 {
		return c.MissRatio(saturatingMul(int64(max(nodes, 1)), nodeCapacity))
	}
	partitions := float64(partition.Rendezvous{}.Partitions())
	u := max(1, int(math.Round(1/(1/float64(c.Keys)+1/partitions))))
	p := 1 / float64(nodes)
	var sum float64
	for k := 1; k <= u; k++ {
		pk := binomial(u, k, p)
		if pk < 1e-9 {
			continue
		}
		capacity := float64(nodeCapacity) * float64(u) / float64(k)
		sum += pk * float64(k) / float64(u) * c.MissRatio(int64(min(capacity, math.MaxInt64/2)))
	}
	return float64(nodes) * sum
}

// binomial returns the probability of k successes in n trials of
// probability p.
func binomial(n, k int, p float64) float64 {
	lnN, _ := math.Lgamma(float64(n + 1))
	lnK, _ := math.Lgamma(float64(k + 1))
	lnNK, _ := math.Lgamma(float64(n - k + 1))
	return math.Exp(lnN - lnK - lnNK + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
}

// saturatingMul returns a·b for a >= 0 and b > 0, or math.MaxInt64 if
// that overflows.
func saturatingMul(a, b int64) int64 {
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
