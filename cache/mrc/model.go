package mrc

// model is how a Recorder turns sampled requests into a curve: the stack
// for lru, miniature caches for the other policies.
type model interface {
	// access applies one sampled request of a key of hash h, charged cost
	// bytes, at the sampling rate in force, and counts it in t with weight
	// 1/rate. A newcomer, a key sampled only since the rate last rose, is
	// not counted when the model does not know it: its first request then
	// would count as a miss that only the lower rate caused.
	access(h uint64, cost int64, rate float64, newcomer bool, t *tally)
	// points turns the window's sums into the curve's points, miss ratios
	// over total, the weight of the requests counted.
	points(sum *tally, total float64) []Point
	// open starts sub-window i, the oldest, which the caller has cleared.
	open(i int)
	// resample forgets the keys that threshold thr, lower than before, no
	// longer samples, and rescales to the rate it gives.
	resample(thr uint64)
	// grow rescales to the rate of threshold thr, higher than before.
	grow(thr uint64)
	// memory returns the bytes held: a part that does not depend on the
	// keys followed, and the part that grows with them (and with the rate).
	memory() (fixed, variable int64)
}

// tally is what one sub-window counted.
type tally struct {
	all     int64     // every request recorded, sampled or not
	sampled float64   // the weight of the sampled requests counted (1/rate each)
	misses  []float64 // the weight missed, per bin of the model's curve
	keys    distinct  // the sampled keys seen
}

// clear empties the tally, keeping its bins.
func (t *tally) clear() {
	t.all, t.sampled, t.keys = 0, 0, distinct{}
	clear(t.misses)
}

// addTo adds t's counts to sum.
func (t *tally) addTo(sum *tally) {
	sum.all += t.all
	sum.sampled += t.sampled
	sum.keys.union(&t.keys)
	for i, m := range t.misses {
		sum.misses[i] += m
	}
}
