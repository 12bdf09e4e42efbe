package mrc

import "math"

// stack is SHARDS for lru: the sampled keys in order of last use, each
// request's reuse distance in bytes, and a histogram of the distances per
// sub-window. A request hits an LRU cache of c bytes exactly when the
// distinct items used since its key's last use, with its own item, fit in
// c: the stack property, which gives the curve at every capacity at once.
//
// An item larger than a capacity, which an engine refuses without
// evicting anything, still adds to other keys' distances here: below the
// size of the largest items the curve is a little pessimistic.
//
// Positions are request numbers: each followed key's cost sits in a
// Fenwick tree at the position of its last use, so the bytes used since
// are a prefix sum away. When positions run out they are renumbered
// densely (compact), which keeps the arrays near twice the keys followed.
type stack struct {
	keys   keyTable
	tree   fenwick
	at     []uint64 // the hash of the key last used at each position; 0 for none
	next   int      // the next position to hand out
	total  int64    // bytes of every key followed
	starts []int    // each sub-window's first position
	edges  []int64  // capacities of the curve's points, ascending
}

// stackEntry is a followed key: the position of its last use and its cost
// (an item over 4 GiB counts as 4 GiB: no node caches one).
type stackEntry struct {
	pos, cost uint32
}

// Bins of the distance histogram: binsPerDoubling per doubling of the
// capacity, over doublings either side of the node's capacity.
const (
	binsPerDoubling = 8
	stackDoublings  = 4
	minPositions    = 16
)

func newStack(capacity int64, subWindows int) *stack {
	n := 2*stackDoublings*binsPerDoubling + 1
	edges := make([]int64, n)
	lo := float64(capacity) / (1 << stackDoublings)
	for i := range edges {
		edges[i] = int64(math.Round(lo * math.Exp2(float64(i)/binsPerDoubling)))
	}
	return &stack{
		keys:   newKeyTable(),
		tree:   make(fenwick, minPositions),
		at:     make([]uint64, minPositions),
		starts: make([]int, subWindows),
		edges:  edges,
	}
}

// bins is the number of histogram bins: one per edge (hits at that edge's
// capacity and above) and a last one for misses at every capacity.
func (s *stack) bins() int { return len(s.edges) + 1 }

func (s *stack) access(h uint64, cost int64, rate float64, newcomer bool, t *tally) {
	c := uint32(min(cost, math.MaxUint32))
	e, known := s.keys.get(h)
	bin := len(s.edges) // a first use, or an item that changed: a miss at any capacity
	if known && e.cost == c {
		used := s.total - s.tree.prefix(int(e.pos)) + int64(c)
		bin = s.bin(float64(used) / rate)
	}
	if known || !newcomer {
		t.sampled += 1 / rate
		t.misses[bin] += 1 / rate
	}
	if known {
		s.forget(int(e.pos), h, e.cost)
	}
	if s.next == len(s.at) {
		s.compact()
	}
	s.at[s.next] = h
	s.tree.add(s.next, int64(c))
	s.keys.put(h, stackEntry{pos: uint32(s.next), cost: c})
	s.total += int64(c)
	s.next++
}

// bin returns the histogram bin of a reuse distance of d bytes: the first
// edge at or above d, or len(edges) past the last.
func (s *stack) bin(d float64) int {
	if d <= float64(s.edges[0]) {
		return 0
	}
	// log2 from the exponent and a line through the mantissa: within 0.09
	// of the logarithm, so within a bin of the answer. Settle it exactly.
	f, e := math.Frexp(d / float64(s.edges[0]))
	i := int(binsPerDoubling * (float64(e-1) + 2*(f-0.5)))
	i = min(max(i, 0), len(s.edges))
	for i > 0 && d <= float64(s.edges[i-1]) {
		i--
	}
	for i < len(s.edges) && d > float64(s.edges[i]) {
		i++
	}
	return i
}

// forget drops the key whose last use is at position p.
func (s *stack) forget(p int, h uint64, cost uint32) {
	s.tree.add(p, -int64(cost))
	s.at[p] = 0
	s.total -= int64(cost)
	if e, ok := s.keys.get(h); ok && int(e.pos) == p {
		s.keys.del(h)
	}
}

// forgetAt drops the key of hash h, last used at position p.
func (s *stack) forgetAt(p int, h uint64) {
	e, _ := s.keys.get(h)
	s.forget(p, h, e.cost)
}

// compact renumbers the positions in use from 0, in order, in place, and
// resizes the arrays when they are far from twice the keys followed (at
// least minPositions): the next compaction comes after about as many
// requests as keys followed.
func (s *stack) compact() {
	// A sub-window that started at old position p starts at the number of
	// live positions before p.
	for i, st := range s.starts {
		n := 0
		for _, h := range s.at[:min(st, s.next)] {
			if h != 0 {
				n++
			}
		}
		s.starts[i] = n
	}
	w := 0
	for _, h := range s.at[:s.next] {
		if h != 0 {
			e, _ := s.keys.get(h)
			e.pos = uint32(w)
			s.keys.put(h, e)
			s.at[w] = h
			w++
		}
	}
	if want := max(minPositions, 2*w); want > len(s.at) || 2*want < len(s.at) {
		at := make([]uint64, want)
		copy(at, s.at[:w])
		s.at, s.tree = at, make(fenwick, want)
	}
	clear(s.at[w:])
	for i := range s.tree {
		s.tree[i] = 0
		if i < w {
			e, _ := s.keys.get(s.at[i])
			s.tree[i] = int64(e.cost)
		}
	}
	s.tree.build()
	s.next = w
}

func (s *stack) open(i int) {
	// The window now starts where the next sub-window did: a key not used
	// since then is past it, and a use of it now would be a first use.
	oldest := s.starts[(i+1)%len(s.starts)]
	for p, h := range s.at[:min(oldest, s.next)] {
		if h != 0 {
			s.forgetAt(p, h)
		}
	}
	s.starts[i] = s.next
	if s.keys.count*8 < len(s.at) && len(s.at) > minPositions {
		s.compact() // give back the positions of a crowd that has left
	}
}

// resample also gives back the room of the keys it drops, at once: a
// lower rate is how the Recorder gets under its bound.
func (s *stack) resample(thr uint64) {
	for p, h := range s.at[:s.next] {
		if h != 0 && !sampled(h, thr) {
			s.forgetAt(p, h)
		}
	}
	s.keys.rebuild(s.keys.count)
	s.compact()
}

// grow changes nothing: distances are scaled by the rate of each request.
func (s *stack) grow(uint64) {}

func (s *stack) points(sum *tally, total float64) []Point {
	return simplify(s.allPoints(sum, total), simplifyTolerance)
}

// allPoints returns a point at every edge.
func (s *stack) allPoints(sum *tally, total float64) []Point {
	ps := make([]Point, len(s.edges))
	missed := sum.misses[len(s.edges)]
	for i := len(s.edges) - 1; i >= 0; i-- {
		ps[i] = Point{Capacity: s.edges[i], MissRatio: min(1, missed/total)}
		missed += sum.misses[i]
	}
	return ps
}

func (s *stack) memory() (fixed, variable int64) {
	fixed = int64(len(s.starts))*8 + int64(len(s.edges))*8 + 64
	return fixed, s.keys.bytes() + int64(len(s.at))*16
}
