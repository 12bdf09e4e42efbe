package cache

import "math/rand/v2"

// Random evicts a uniformly random resident item, found by sampling the
// item table's index slots. A hit changes nothing, so Get takes only a read
// lock.
type Random struct {
	lockedTable
	rnd *rand.Rand
}

var (
	_ Engine = (*Random)(nil)
	_ Ranger = (*Random)(nil)
)

// newRandom returns a random-replacement engine drawing victims from rnd,
// or from a randomly seeded generator when rnd is nil.
func newRandom(capacity int64, rnd *rand.Rand) *Random {
	if rnd == nil {
		rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return &Random{lockedTable: newLockedTable(capacity), rnd: rnd}
}

// Get returns key's value.
func (c *Random) Get(key string) ([]byte, bool) {
	h := c.t.hash(key)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if i := c.t.lookup(h, key); i != 0 {
		return c.t.at(i).bytesOf(), true
	}
	return nil, false
}

// Set stores the item, evicting random items until it fits.
func (c *Random) Set(key string, value []byte) error {
	h := c.t.hash(key)
	cost := Cost(key, value)
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := c.t.lookup(h, key); i != 0 {
		c.t.remove(i)
	}
	if cost > c.capacity {
		return ErrTooLarge
	}
	for c.t.used+cost > c.capacity {
		c.t.remove(c.t.randomItem(c.rnd.IntN))
	}
	pos, _ := c.t.find(h, key)
	c.t.insert(h, pos, key, value)
	return nil
}

// Delete removes key and reports whether it was present.
func (c *Random) Delete(key string) bool {
	h := c.t.hash(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.t.lookup(h, key)
	if i == 0 {
		return false
	}
	c.t.remove(i)
	return true
}

// Clear removes every item and releases the memory that held them.
func (c *Random) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t.reset()
}

// SetCapacity changes the bound, evicting random items at once until Size
// fits it.
func (c *Random) SetCapacity(bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.capacity = max(bytes, 0)
	for c.t.used > c.capacity {
		c.t.remove(c.t.randomItem(c.rnd.IntN))
	}
}

// Range calls fn for a snapshot of the items, in no particular order.
func (c *Random) Range(fn func(key string, value []byte) bool) { c.rangeIn(c.t.arenaOrder, fn) }
