package cache

import "sync"

// TinyLFU is W-TinyLFU (Einziger, Friedman and Manes; Caffeine, otter),
// byte-bounded: a new item enters a small LRU window (1 % of the bytes);
// what the window pushes out is a candidate for the main region, a
// segmented LRU (probation, then protected once hit again, 80 % of the
// main bytes), and gets in only if a count-min sketch of recent accesses,
// which also remembers keys no longer cached, says it is more popular than
// the item it would replace. Scans and one-hit wonders pass through the
// window without flushing the popular items.
//
// Hits are not applied at once: Get records the key's hash in a read
// buffer; the Get that fills a buffer replays it into the sketch and the
// queues, under the read lock and policyMu, while other lookups go on; a
// Set replays every buffer first. So Get takes only the read lock.
//
// With sizeAware set (policy "sizelfu"), eviction and admission weigh
// accesses per byte instead of accesses (see admit and sampledVictim):
// under a byte bound, that keeps the most hits per megabyte.
type TinyLFU struct {
	lockedTable
	// policyMu guards the sketch, the queues' links and seg during a drain
	// by a Get, which holds only the read lock. Holders of the write lock
	// need not take it: a drain holds the read lock too.
	policyMu sync.Mutex
	reads    readBuffers
	sk       sketch
	// seg holds, per entry index, the queue the item is in and whether it
	// is a candidate just pushed out of the window.
	seg                          []uint8
	window, probation, protected queue
	windowMax, protectedMax      int64
	sizeAware                    bool
	// pin is the item the current Set stored: eviction never picks it, so
	// a Get right after a successful Set hits.
	pin uint32
	rng uint64 // sizelfu's victim sampling (xorshift64; never 0)
}

const (
	segWindow uint8 = 1 + iota
	segProbation
	segProtected
	segCandidate uint8 = 0x80 // with segProbation: not yet admitted or refused
)

var (
	_ Engine = (*TinyLFU)(nil)
	_ Ranger = (*TinyLFU)(nil)
)

func newTinyLFU(capacity int64, sizeAware bool) *TinyLFU {
	c := &TinyLFU{lockedTable: newLockedTable(capacity), reads: newReadBuffers(), sk: newSketch(), sizeAware: sizeAware, rng: 0x9e3779b97f4a7c15}
	c.seg = make([]uint8, chunkSize)
	c.setCapacity(capacity)
	return c
}

func (c *TinyLFU) setCapacity(bytes int64) {
	c.capacity = max(bytes, 0)
	c.windowMax = c.capacity / 100
	c.protectedMax = (c.capacity - c.windowMax) * 8 / 10
}

func (c *TinyLFU) queueOf(i uint32) *queue {
	switch c.seg[i] &^ segCandidate {
	case segWindow:
		return &c.window
	case segProbation:
		return &c.probation
	}
	return &c.protected
}

// Get returns key's value and records the hit for the next drain.
func (c *TinyLFU) Get(key string) ([]byte, bool) {
	h := c.t.hash(key)
	c.mu.RLock()
	i := c.t.lookup(h, key)
	if i == 0 {
		c.mu.RUnlock()
		return nil, false
	}
	v := c.t.at(i).bytesOf()
	if s, full := c.reads.record(h); full && c.policyMu.TryLock() {
		// Under the read lock the table cannot change, and policyMu keeps
		// other drains out: lookups go on meanwhile (they read no links).
		s.drain(c.onAccess)
		c.policyMu.Unlock()
	}
	c.mu.RUnlock()
	return v, true
}

// drain applies the recorded hits. The write lock is held.
func (c *TinyLFU) drain() { c.reads.drainAll(c.onAccess) }

// onAccess counts an access to h's key and, if the key is held, refreshes
// its place.
func (c *TinyLFU) onAccess(h uint64) {
	c.sk.increment(h)
	if i := c.t.lookupFingerprint(h); i != 0 {
		c.onHit(i)
	}
}

// onHit refreshes an item's recency; a hit in probation earns protection.
// sizelfu picks its victims by sampling the main region, not from the
// queues' ends, so there a hit in the main region changes nothing: the
// sketch has counted it, and the queue moves (a few cache misses each)
// are saved.
func (c *TinyLFU) onHit(i uint32) {
	seg := c.seg[i] &^ segCandidate
	if c.sizeAware && seg != segWindow {
		return
	}
	switch seg {
	case segWindow:
		c.window.moveToFront(&c.t, i)
	case segProbation:
		c.probation.remove(&c.t, i)
		c.seg[i] = segProtected
		c.protected.pushFront(&c.t, i)
		// Overflow of protected goes back to probation, newest end.
		for c.protected.bytes > c.protectedMax && c.protected.tail != i {
			d := c.protected.tail
			c.protected.remove(&c.t, d)
			c.seg[d] = segProbation
			c.probation.pushFront(&c.t, d)
		}
	case segProtected:
		c.protected.moveToFront(&c.t, i)
	}
}

// Set stores the item in the window (or in place if key is held), counts
// the access, and evicts until it fits. It never evicts the item it stored.
func (c *TinyLFU) Set(key string, value []byte) error {
	h := c.t.hash(key)
	cost := Cost(key, value)
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := c.t.lookup(h, key); i != 0 {
		if cost > c.capacity {
			c.removeItem(i)
			return ErrTooLarge
		}
		c.sk.increment(h)
		delta := c.t.replace(i, value)
		c.queueOf(i).bytes += delta
		c.onHit(i)
		if delta > 0 { // only growth can break a bound
			c.pin = i
			c.evict()
			c.pin = 0
		}
		return nil
	}
	if cost > c.capacity {
		return ErrTooLarge
	}
	// Admission below weighs frequencies: apply the hits recorded so far.
	// (An update above decides nothing, so it leaves them to a later drain.)
	c.drain()
	c.sk.increment(h)
	c.sk.ensure(c.t.count + 1)
	pos, _ := c.t.find(h, key)
	i := c.t.insert(h, pos, key, value)
	if need := len(c.t.chunks) * chunkSize; len(c.seg) < need {
		c.seg = append(c.seg, make([]uint8, need-len(c.seg))...)
	}
	c.seg[i] = segWindow
	c.window.pushFront(&c.t, i)
	c.pin = i
	c.evict()
	c.pin = 0
	return nil
}

// removeItem drops the item at entry i from its queue and the table.
func (c *TinyLFU) removeItem(i uint32) {
	c.queueOf(i).remove(&c.t, i)
	moved := c.t.remove(i)
	if moved == 0 {
		c.seg[i] = 0
		return
	}
	// The arena's last entry now lives at i: its links and tag follow it.
	c.seg[i], c.seg[moved] = c.seg[moved], 0
	c.queueOf(i).moved(&c.t, i)
	if c.pin == moved {
		c.pin = i
	}
}

// Delete removes key and reports whether it was present.
func (c *TinyLFU) Delete(key string) bool {
	h := c.t.hash(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drain() // a buffered hit must not land on the entry that takes key's place
	i := c.t.lookup(h, key)
	if i == 0 {
		return false
	}
	c.removeItem(i)
	return true
}

// Clear removes every item and forgets every count.
func (c *TinyLFU) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads.drainAll(func(uint64) {})
	c.t.reset()
	c.sk.reset()
	c.window, c.probation, c.protected = queue{}, queue{}, queue{}
	c.seg = make([]uint8, chunkSize)
}

// SetCapacity changes the bound and the regions' shares of it, evicting at
// once until Size fits.
func (c *TinyLFU) SetCapacity(bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drain()
	c.setCapacity(bytes)
	c.evict()
}

// Range calls fn for a snapshot of the items: protected, then window, then
// probation, each from most to least recently used.
func (c *TinyLFU) Range(fn func(key string, value []byte) bool) { c.rangeIn(c.valueOrder, fn) }

func (c *TinyLFU) valueOrder(yield func(uint32) bool) {
	for _, q := range []*queue{&c.protected, &c.window, &c.probation} {
		for i := q.head; i != 0; i = c.t.at(i).next {
			if !yield(i) {
				return
			}
		}
	}
}
