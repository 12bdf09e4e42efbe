package cache

// evict restores the byte bound after a Set or a shrink. The window's
// overflow moves to the newest end of probation, tagged as candidates;
// then, while over capacity, the newest candidate duels a victim (the
// oldest non-candidate for tinylfu, a sampled one for sizelfu) and the
// loser goes. Once the candidates are settled, victims go unopposed.
func (c *TinyLFU) evict() {
	for c.window.bytes > c.windowMax {
		v := c.window.tail
		if v == 0 || v == c.pin {
			break // the window holds only the item being stored
		}
		c.window.remove(&c.t, v)
		c.seg[v] = segProbation | segCandidate
		c.probation.pushFront(&c.t, v)
	}
	for c.t.used > c.capacity {
		cand := c.probation.head
		if cand != 0 && c.seg[cand]&segCandidate == 0 {
			cand = 0
		}
		victim := uint32(0)
		if c.sizeAware {
			victim = c.sampledVictim()
		}
		if victim == 0 {
			victim = c.victim()
		}
		if cand == 0 && victim == 0 {
			break // only the pinned item is left, and Set checked that it fits
		}
		switch {
		case victim == 0:
			c.removeItem(c.probation.tail) // only candidates left: the oldest goes
		case cand == 0:
			c.removeItem(victim)
		case c.admit(cand, victim):
			c.removeItem(victim)
		default:
			c.removeItem(cand)
		}
	}
	// Candidates still here are admitted.
	for i := c.probation.head; i != 0 && c.seg[i]&segCandidate != 0; i = c.t.at(i).next {
		c.seg[i] = segProbation
	}
}

// victim is the item eviction would take next, other than a candidate or
// the pinned item: the oldest in probation, else in protected, else in the
// window; 0 if there is none.
func (c *TinyLFU) victim() uint32 {
	if v := c.probation.tail; v != 0 && c.seg[v]&segCandidate == 0 {
		return v
	}
	for _, q := range []*queue{&c.protected, &c.window} {
		v := q.tail
		if v != 0 && v == c.pin {
			v = c.t.at(v).prev
		}
		if v != 0 {
			return v
		}
	}
	return 0
}

// admit reports whether candidate should stay at victim's expense: by
// frequency for tinylfu; for sizelfu by frequency per byte, so that a
// small image replaces a big one of similar popularity, and a big cold
// image loses to each of the small popular ones it would push out in turn
// (the loop in evict duels it against one victim after another until it
// has room or loses).
func (c *TinyLFU) admit(candidate, victim uint32) bool {
	fc, fv := int64(c.frequency(candidate)), int64(c.frequency(victim))
	if c.sizeAware {
		return fc*c.t.at(victim).cost() > fv*c.t.at(candidate).cost()
	}
	return fc > fv
}

// victimSamples is how many items sizelfu compares to pick a victim.
const victimSamples = 16

// sampledVictim returns, among a random sample of main-region items, the
// one with the fewest accesses per byte (sizelfu's victim), or 0 if the
// sample found none. Recency order says nothing of size, so sizelfu
// samples the dense arena, like Random, and judges what it drew.
func (c *TinyLFU) sampledVictim() uint32 {
	var best uint32
	var bestFreq, bestCost int64
	for tries, n := 0, 0; tries < 4*victimSamples && n < victimSamples; tries++ {
		c.rng ^= c.rng << 13 // xorshift64: the lock is held, a plain state will do
		c.rng ^= c.rng >> 7
		c.rng ^= c.rng << 17
		i := uint32(1 + c.rng%uint64(c.t.count))
		if s := c.seg[i]; i == c.pin || (s != segProbation && s != segProtected) {
			continue // the window and the candidates are not victims
		}
		n++
		f, cost := int64(c.frequency(i)), c.t.at(i).cost()
		if best == 0 || f*bestCost < bestFreq*cost {
			best, bestFreq, bestCost = i, f, cost
		}
	}
	return best
}

func (c *TinyLFU) frequency(i uint32) int { return c.sk.frequency(c.t.hash(c.t.at(i).key)) }
