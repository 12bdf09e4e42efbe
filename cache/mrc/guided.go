package mrc

import "math"

// guided is the model for policies other than lru: miniature caches give
// the policy's miss ratio at a few capacities, a factor of 2 apart, and
// the LRU stack of the same sampled requests gives the curve's shape in
// between. Where a working set just fits, a curve bends sharply, and a
// line between points a factor of 2 apart misses the bend by as much as
// 0.1; every policy bends where LRU does (a working set that fits is a
// working set that fits), and by far less differs from LRU than from a
// line. So the curve is LRU's at the stack's fine steps, plus the
// policy's difference from LRU, measured at each miniature cache and
// interpolated between them. Twice as many miniature caches would do as
// well but cost twice the memory and CPU.
//
// The shape needs fewer keys than the values: the stack samples a subset
// of the sampled keys (a lower threshold, so the samples nest), sized to
// a quarter of the memory the Recorder can spend on keys, and the
// miniature caches keep the rest.
type guided struct {
	lru      *stack
	mini     *minisim
	thr      uint64 // the Recorder's threshold
	lruThr   uint64 // the stack's, at most thr
	lruBytes int64  // what the stack may hold beyond its fixed part
}

// minStackBytes lets the stack follow a hundred keys or so, whatever the
// bound: fewer give no shape.
const minStackBytes = 4 << 10

func newGuided(lru *stack, mini *minisim) *guided {
	return &guided{lru: lru, mini: mini, thr: fullRate, lruThr: fullRate}
}

func (g *guided) access(h uint64, cost int64, rate float64, newcomer bool, t *tally) {
	n := g.lru.bins()
	if sampled(h, g.lruThr) {
		g.lru.access(h, cost, rateOf(g.lruThr), newcomer, &tally{misses: t.misses[:n]})
		for _, v := g.lru.memory(); v > g.lruBytes && g.lruThr > minThreshold; _, v = g.lru.memory() {
			g.lruThr /= 2
			g.lru.resample(g.lruThr)
		}
	}
	mt := tally{misses: t.misses[n:]}
	g.mini.access(h, cost, rate, newcomer, &mt)
	t.sampled += mt.sampled // the miniature caches' count is the policy's
}

func (g *guided) points(sum *tally, total float64) []Point {
	n := g.lru.bins()
	lru := Curve{Points: g.lru.allPoints(&tally{misses: sum.misses[:n]}, total)}
	mini := g.mini.points(&tally{misses: sum.misses[n:]}, total)
	// The policy's difference from LRU at each miniature cache, as a
	// curve of its own, interpolated the same way.
	diff := Curve{Points: make([]Point, len(mini))}
	for i, p := range mini {
		diff.Points[i] = Point{Capacity: p.Capacity, MissRatio: p.MissRatio - lru.MissRatio(p.Capacity)}
	}
	ps := make([]Point, 0, len(lru.Points))
	for _, p := range lru.Points {
		if p.Capacity < mini[0].Capacity || p.Capacity > mini[len(mini)-1].Capacity {
			continue // the miniature caches say nothing there
		}
		m := p.MissRatio + diff.MissRatio(p.Capacity)
		ps = append(ps, Point{Capacity: p.Capacity, MissRatio: math.Min(1, math.Max(0, m))})
	}
	return simplify(ps, simplifyTolerance)
}

// open also lets the stack sample more keys when it has room. Their first
// requests look like misses to the stack for a while; only the shape
// between miniature caches sees that.
func (g *guided) open(i int) {
	g.lru.open(i)
	g.mini.open(i)
	if _, v := g.lru.memory(); g.lruThr < g.thr && 2.5*float64(v) <= float64(g.lruBytes) {
		g.lruThr *= 2
	}
}

func (g *guided) resample(thr uint64) {
	g.thr = thr
	g.mini.resample(thr)
	if g.lruThr > thr {
		g.lruThr = thr
		g.lru.resample(thr)
	}
}

func (g *guided) grow(thr uint64) {
	g.thr = thr
	g.mini.grow(thr)
}

func (g *guided) memory() (fixed, variable int64) {
	sf, sv := g.lru.memory()
	mf, mv := g.mini.memory()
	return sf + mf, sv + mv
}
