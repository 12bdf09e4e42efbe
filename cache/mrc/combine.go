package mrc

import (
	"math"
	"slices"
)

// Combine returns a pool's curve from its nodes' curves: the miss ratio
// of the pool's traffic against the total capacity in bytes, as one cache
// would have it. PoolMissRatio turns it into the prediction for N nodes
// of C bytes each.
//
// The model. The pool routes each key to one node by a hash of the key,
// so node i sees the pool's traffic for a hashed share s_i of the keys: a
// spatial sample of rate s_i, which is what SHARDS samples. A spatial
// sample at capacity c misses as the whole does at capacity c/s, so each
// node's curve m_i estimates the pool's curve as M(X) ≈ m_i(s_i·X), and
// Combine takes the average of these estimates weighted by the nodes'
// requests:
//
//	M(X) = Σ_i Requests_i · m_i(s_i·X) / Σ_i Requests_i
//
// s_i is the node's share of the keys requested, Keys_i / Σ Keys, when
// every node with requests estimated its Keys, and 1/n for n curves
// otherwise. The measured share matters when keys are few: 40 keys hash
// onto 4 nodes as 14, 10, 9 and 7 as often as 10 each, and a node with 14
// of them shows the curve of 14 keys, not of a quarter of the pool's.
// Dividing by the share it really has gives back the pool's curve;
// PoolMissRatio then puts the unevenness of the next hashing back in, as
// an expectation.
//
// Curves without requests carry no weight; the result has the curves'
// policy if they agree, and no points if no curve has requests.
func Combine(curves ...Curve) Curve {
	var pool Curve
	keysKnown := true
	for i, c := range curves {
		if i == 0 {
			pool.Policy = c.Policy
		} else if c.Policy != pool.Policy {
			pool.Policy = "" // mixed: "" matches no later curve but one of policy ""
		}
		if active(c) {
			pool.Requests += c.Requests
			pool.Keys += c.Keys // nodes hold disjoint keys
			keysKnown = keysKnown && c.Keys > 0
		}
	}
	if pool.Requests == 0 {
		return pool
	}
	if !keysKnown {
		pool.Keys = 0
	}
	shares := make([]float64, len(curves))
	var caps []int64
	for i, c := range curves {
		if !active(c) {
			continue
		}
		shares[i] = 1 / float64(len(curves))
		if keysKnown {
			shares[i] = float64(c.Keys) / float64(pool.Keys)
		}
		for _, p := range c.Points {
			caps = append(caps, int64(math.Round(float64(p.Capacity)/shares[i])))
		}
	}
	slices.Sort(caps)
	caps = slices.Compact(caps)
	pool.Points = make([]Point, 0, len(caps))
	for _, x := range caps {
		var sum float64
		for i, c := range curves {
			if active(c) {
				sum += float64(c.Requests) * c.MissRatio(int64(math.Round(shares[i]*float64(x))))
			}
		}
		pool.Points = append(pool.Points, Point{Capacity: x, MissRatio: sum / float64(pool.Requests)})
	}
	pool.Points = simplify(pool.Points, simplifyTolerance)
	return pool
}

// active reports whether a curve has requests to weigh.
func active(c Curve) bool { return c.Requests > 0 && len(c.Points) > 0 }

// simplifyTolerance is how far (in miss ratio) interpolation may stray
// from a point that simplify drops: well under the curve's own error.
const simplifyTolerance = 0.002
