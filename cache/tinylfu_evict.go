package cache

// evict restores the byte bound after a Set or a shrink. The window's
// overflow moves to the newest end of probation, tagged as candidates;
// then, while over capacity, the newest candidate duels the oldest
// non-candidate (the victim) and the less popular one goes. Once the
// candidates are settled the oldest items go unopposed, probation first.
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
		victim := c.victim()
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

// admit reports whether candidate should stay at victim's expense.
func (c *TinyLFU) admit(candidate, victim uint32) bool {
	if c.sizeAware {
		return c.admitSized(candidate, victim)
	}
	return c.frequency(candidate) > c.frequency(victim)
}

// admitSized weighs the candidate against every item its bytes would
// displace, oldest first from victim: it stays only if it was accessed
// more often than all of them together, the last one counted in
// proportion to the share of its bytes the candidate needs. So a big cold
// image cannot flush many small popular ones, and a small image can
// replace a big one of similar popularity: it frees room for others too.
func (c *TinyLFU) admitSized(candidate, victim uint32) bool {
	need := c.t.at(candidate).cost()
	fc := float64(c.frequency(candidate))
	var displaced float64
	for v := victim; v != 0 && need > 0; v = c.t.at(v).prev {
		if v == c.pin || c.seg[v]&segCandidate != 0 {
			break
		}
		cost := c.t.at(v).cost()
		f := float64(c.frequency(v))
		if cost >= need {
			displaced += f * float64(need) / float64(cost)
			break
		}
		displaced += f
		need -= cost
		if displaced >= fc {
			return false
		}
	}
	return fc > displaced
}

func (c *TinyLFU) frequency(i uint32) int { return c.sk.frequency(c.t.hash(c.t.at(i).key)) }
