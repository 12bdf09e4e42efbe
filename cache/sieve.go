package cache

import "sync/atomic"

// SIEVE is the FIFO-queue policy of Zhang et al. (NSDI 2024): items sit in
// insertion order; a hit only sets the item's visited bit; a hand sweeps
// from the oldest item towards the newest, clearing visited bits and
// evicting the first item it finds unvisited, and stays where it stopped.
// Popular items survive without ever moving, so a hit writes one bit and
// lookups run in parallel under the read lock.
type SIEVE struct {
	lockedTable
	q queue
	// hand is the next item the sweep looks at (0: start at the tail).
	hand uint32
	// visited holds one bit per entry index. Get sets bits under the read
	// lock, concurrently with other readers, so every access is atomic.
	visited []uint64
	// pin is the item the current Set replaced in place: the hand passes
	// over it, so a Get right after a successful Set hits.
	pin uint32
}

var (
	_ Engine = (*SIEVE)(nil)
	_ Ranger = (*SIEVE)(nil)
)

func newSIEVE(capacity int64) *SIEVE {
	return &SIEVE{lockedTable: newLockedTable(capacity), visited: make([]uint64, chunkSize/64)}
}

func (c *SIEVE) isVisited(i uint32) bool {
	return atomic.LoadUint64(&c.visited[i>>6])&(1<<(i&63)) != 0
}

func (c *SIEVE) setVisited(i uint32, on bool) {
	w, bit := &c.visited[i>>6], uint64(1)<<(i&63)
	if on {
		atomic.OrUint64(w, bit)
	} else {
		atomic.AndUint64(w, ^bit)
	}
}

// Get returns key's value and marks it visited.
func (c *SIEVE) Get(key string) ([]byte, bool) {
	h := c.t.hash(key)
	c.mu.RLock()
	i := c.t.lookup(h, key)
	if i == 0 {
		c.mu.RUnlock()
		return nil, false
	}
	if !c.isVisited(i) { // a load first: hot items are already marked, keep their line shared
		c.setVisited(i, true)
	}
	v := c.t.at(i).bytesOf()
	c.mu.RUnlock()
	return v, true
}

// Set stores a new item as the newest, unvisited, evicting with the hand
// until it fits. A held key gets its new value in place and counts as
// visited: an update is a sign of interest, and it costs no reordering.
func (c *SIEVE) Set(key string, value []byte) error {
	h := c.t.hash(key)
	cost := Cost(key, value)
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := c.t.lookup(h, key); i != 0 {
		if cost > c.capacity {
			c.removeItem(i)
			return ErrTooLarge
		}
		c.q.bytes += c.t.replace(i, value)
		c.setVisited(i, true)
		c.pin = i
		for c.t.used > c.capacity {
			c.evict()
		}
		c.setVisited(c.pin, true) // whether or not the hand passed it
		c.pin = 0
		return nil
	}
	if cost > c.capacity {
		return ErrTooLarge
	}
	for c.t.used+cost > c.capacity {
		c.evict()
	}
	pos, _ := c.t.find(h, key)
	i := c.t.insert(h, pos, key, value)
	if need := len(c.t.chunks) * chunkSize / 64; len(c.visited) < need {
		c.visited = append(c.visited, make([]uint64, need-len(c.visited))...)
	}
	c.setVisited(i, false)
	c.q.pushFront(&c.t, i)
	return nil
}

// evict moves the hand from older to newer items, wrapping at the newest,
// and removes the first unvisited one. The queue must not be empty.
func (c *SIEVE) evict() {
	o := c.hand
	if o == 0 {
		o = c.q.tail
	}
	for o == c.pin || c.isVisited(o) {
		c.setVisited(o, false)
		if o = c.t.at(o).prev; o == 0 {
			o = c.q.tail
		}
	}
	c.hand = c.t.at(o).prev
	c.removeItem(o)
}

func (c *SIEVE) removeItem(i uint32) {
	if c.hand == i {
		c.hand = c.t.at(i).prev
	}
	c.q.remove(&c.t, i)
	moved := c.t.remove(i)
	if moved == 0 {
		c.setVisited(i, false)
		return
	}
	// The arena's last entry now lives at i: its links, bit and the hand
	// follow it.
	c.q.moved(&c.t, i)
	c.setVisited(i, c.isVisited(moved))
	c.setVisited(moved, false)
	if c.hand == moved {
		c.hand = i
	}
	if c.pin == moved {
		c.pin = i
	}
}

// Delete removes key and reports whether it was present.
func (c *SIEVE) Delete(key string) bool {
	h := c.t.hash(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.t.lookup(h, key)
	if i == 0 {
		return false
	}
	c.removeItem(i)
	return true
}

// Clear removes every item and releases the memory that held them.
func (c *SIEVE) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t.reset()
	c.q, c.hand = queue{}, 0
	c.visited = make([]uint64, chunkSize/64)
}

// SetCapacity changes the bound, evicting with the hand at once until Size
// fits it.
func (c *SIEVE) SetCapacity(bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.capacity = max(bytes, 0)
	for c.t.used > c.capacity {
		c.evict()
	}
}

// Range calls fn for a snapshot of the items: visited ones first (those
// the hand will keep), each group from newest to oldest.
func (c *SIEVE) Range(fn func(key string, value []byte) bool) { c.rangeIn(c.valueOrder, fn) }

func (c *SIEVE) valueOrder(yield func(uint32) bool) {
	for _, visited := range []bool{true, false} {
		for i := c.q.head; i != 0; i = c.t.at(i).next {
			if c.isVisited(i) == visited && !yield(i) {
				return
			}
		}
	}
}
