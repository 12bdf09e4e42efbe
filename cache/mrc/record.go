package mrc

import (
	"math"
	"time"

	"github.com/picpool/picpool/cache"
)

// Record counts one request for key, whose value is size bytes. A node
// calls it once per lookup whose size it knows: on a GET hit, and for a
// GET miss when the missed value is then SET (a SET of a key it does not
// hold; the size of a miss is known only then). A miss that is never set,
// an absent image, is left out: no capacity would have made it a hit.
//
// For a key that is not sampled it costs a hash, an atomic add and a
// comparison (and every 64th such request on a stripe, a look at the
// clock); a sampled key's request takes the lock and updates the model.
// The window moves on every 16 sampled requests and at Curve, which a
// node calls every time it publishes its statistics (5 s).
func (r *Recorder) Record(key string, size int64) {
	h := hashKey(r.seed, key)
	if !sampled(h, r.threshold.Load()) {
		if r.all.add(h)%tickEvery == 0 {
			r.tick() // the window moves on even if no sampled key comes
		}
		return
	}
	r.recordSampled(h, int64(len(key))+size+cache.ItemOverhead) // charged as the engines charge it
}

// tickEvery is how many requests a stripe of the request counter counts
// between looks at the clock.
const tickEvery = 64

// tick advances the window to now.
func (r *Recorder) tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clock = r.now()
	r.advance(r.clock)
}

// checkEvery is how many sampled requests go by between looks at the
// clock: on a virtual machine's clock a look costs as much as the
// request. The window moves at Curve and tick too.
const checkEvery = 16

func (r *Recorder) recordSampled(h uint64, cost int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sampledCount++; r.sampledCount%checkEvery == 0 {
		r.clock = r.now()
		r.advance(r.clock)
		if r.keyCap > 0 && r.capKeys.estimate() > r.keyCap {
			r.lower() // enough keys for the curve: save the CPU
		}
	}
	t := &r.tallies[r.win.cur]
	t.all++ // here, not in r.all: after advance, in the sub-window it came in
	thr := r.threshold.Load()
	if !sampled(h, thr) { // the rate fell since Record looked
		return
	}
	t.keys.add(h)
	r.capKeys.add(h)
	newcomer := r.clock.Before(r.settleUntil) && !sampled(h, r.settleBelow)
	r.m.access(h, cost, rateOf(thr), newcomer, t)
	for r.overBudget(1) && r.lower() {
	}
}

// lower halves the rate, unless it is at its floor, and reports whether
// it did.
func (r *Recorder) lower() bool {
	thr := r.threshold.Load()
	if thr <= minThreshold {
		return false
	}
	r.threshold.Store(thr / 2)
	r.m.resample(thr / 2)
	r.capKeys = distinct{}
	return true
}

// advance moves the window to now: the requests counted so far go to the
// sub-window they came in, and each sub-window reopened is cleared. When
// the model is well under its memory bound the rate doubles.
func (r *Recorder) advance(now time.Time) {
	if !r.win.due(now) {
		return
	}
	r.tallies[r.win.cur].all += r.all.take()
	r.win.advance(now, func(i int) {
		r.tallies[i].clear()
		r.m.open(i)
		r.capKeys = distinct{}
		// Doubling the rate about doubles the variable part and the keys
		// sampled: do it when both stay under their bounds with a margin.
		if thr := r.threshold.Load(); thr < fullRate && !r.overBudget(2.5) && !r.overKeyCap(2.5) {
			if now.After(r.settleUntil) {
				r.settleBelow = thr
			}
			r.settleUntil = now.Add(r.win.span * time.Duration(r.win.n))
			r.threshold.Store(2 * thr)
			r.m.grow(2 * thr)
		}
	})
}

// overKeyCap reports whether factor × the keys sampled in the window is
// over the cap on them, if there is one.
func (r *Recorder) overKeyCap(factor float64) bool {
	if r.keyCap == 0 {
		return false
	}
	var all distinct
	for i := range r.tallies {
		all.union(&r.tallies[i].keys)
	}
	return factor*all.estimate() > r.keyCap
}

// memory returns the bytes held, in a fixed part and a part that grows
// with the keys followed; r.mu is held.
func (r *Recorder) memory() (fixed, variable int64) {
	fixed, variable = r.m.memory()
	t := int64(len(r.tallies[0].misses))*8 + distinctBits/8 + 64
	return fixed + int64(len(r.tallies))*t + 768 + pendingSlots*32, variable // 768: the Recorder and its counter
}

// overBudget reports whether factor × the variable part is over what the
// bound leaves it: the bound less the fixed part, and at least half the
// bound, so a small node whose fixed part alone is over the bound still
// samples.
func (r *Recorder) overBudget(factor float64) bool {
	_, variable := r.memory()
	return factor*float64(variable) > float64(r.variableBudget())
}

// variableBudget is what the bound leaves the variable part.
func (r *Recorder) variableBudget() int64 {
	fixed, _ := r.memory()
	return max(r.budget-fixed, r.budget/2)
}

// Memory returns an estimate of the bytes the Recorder holds
// (TestMemoryMatchesHeap checks it against the heap). It stays under
// Options.MaxMemory unless the part that does not depend on the traffic
// (the sub-windows' counts, about 3.5 KB; for policies other than lru, the
// seven miniature caches when empty, about 45 KB each) is over half of
// it: then it is that part plus half the bound, or a little more, as the
// stack keeps room for a hundred keys (see guided).
func (r *Recorder) Memory() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	fixed, variable := r.memory()
	return fixed + variable
}

// Rate returns the share of keys sampled now.
func (r *Recorder) Rate() float64 { return rateOf(r.threshold.Load()) }

// Curve returns the node's curve over the window up to now.
func (r *Recorder) Curve() Curve {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clock = r.now()
	r.advance(r.clock)
	r.tallies[r.win.cur].all += r.all.take()
	sum := tally{misses: make([]float64, len(r.tallies[0].misses))}
	for i := range r.tallies {
		r.tallies[i].addTo(&sum)
	}
	c := Curve{Policy: r.policy, Requests: sum.all}
	if sum.sampled > 0 {
		c.Points = r.m.points(&sum, float64(sum.all))
		c.Keys = max(1, int64(math.Round(sum.keys.estimate()/r.Rate())))
	}
	return c
}
