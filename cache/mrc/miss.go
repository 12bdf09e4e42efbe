package mrc

import (
	"time"

	"github.com/picpool/picpool/cache"
)

// A node learns the size of a missed value only when it is then set (the
// pool loads it from the origin and sets it), so a lookup that misses is
// recorded in two halves: Miss when it misses, Fill when its value
// arrives. A key that is not sampled needs no size: Miss counts it at
// once, as Record would. A sampled key's miss waits, in a small table,
// for its Fill; one that none follows within pendingTTL (an absent
// image: no capacity would have made it a hit) is left out, as Record
// asks. A Fill without a Miss before it (an entry a resize moved in, a
// tool's set) records nothing.

// pendingSlots bounds the sampled misses waiting for their value at
// once: loads take milliseconds, and sampled keys are a small share of
// the misses, so a few dozen are plenty; a miss that finds no room is
// left out.
const pendingSlots = 64

// pendingTTL is how long a sampled miss waits for its value: a load from
// the origin is bounded at 30 s (the pool's LoadTimeout).
const pendingTTL = 30 * time.Second

// pending is a sampled miss waiting for its value; h == 0 is a free slot.
type pending struct {
	h  uint64
	at time.Time
}

// Miss counts one lookup of key that missed (see Fill).
func (r *Recorder) Miss(key string) {
	h := hashKey(r.seed, key)
	if !sampled(h, r.threshold.Load()) {
		if r.all.add(h)%tickEvery == 0 {
			r.tick()
		}
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	free := -1
	for i, p := range r.pending {
		switch {
		case p.h == h:
			r.pending[i].at = r.clock // a second miss of a key being loaded: one lookup's worth
			return
		case p.h == 0 || r.clock.Sub(p.at) > pendingTTL:
			if free < 0 {
				free = i
			}
		}
	}
	if free >= 0 {
		r.pending[free] = pending{h: h, at: r.clock}
	}
}

// Fill records the miss Miss left waiting for key, now that its value of
// size bytes arrived; without one it does nothing.
func (r *Recorder) Fill(key string, size int64) {
	h := hashKey(r.seed, key)
	if !sampled(h, r.threshold.Load()) {
		return // counted by Miss, if it missed
	}
	r.mu.Lock()
	found := false
	for i, p := range r.pending {
		if p.h == h {
			found = r.clock.Sub(p.at) <= pendingTTL
			r.pending[i] = pending{}
			break
		}
	}
	r.mu.Unlock()
	if found {
		r.recordSampled(h, int64(len(key))+size+cache.ItemOverhead)
	}
}
