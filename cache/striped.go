package cache

// striped is what SIEVE and TinyLFU share: an item table behind a striped
// lock (see stripedLock), and the byte bound. Their lookups hold one
// reader stripe; everything that changes the table holds all of them.
type striped struct {
	lk       stripedLock
	t        itemTable
	capacity int64
}

func newStriped(capacity int64) striped {
	return striped{lk: newStripedLock(), t: newItemTable(), capacity: capacity}
}

// Len returns the number of items.
func (c *striped) Len() int {
	s := c.lk.rlock()
	defer s.mu.Unlock()
	return c.t.count
}

// Size returns the bytes charged for the items held.
func (c *striped) Size() int64 {
	s := c.lk.rlock()
	defer s.mu.Unlock()
	return c.t.used
}

// Capacity returns the bound on Size.
func (c *striped) Capacity() int64 {
	s := c.lk.rlock()
	defer s.mu.Unlock()
	return c.capacity
}

// rangeIn calls fn, without the lock, for a snapshot of the items taken
// in the given order.
func (c *striped) rangeIn(order func(yield func(uint32) bool), fn func(key string, value []byte) bool) {
	c.lk.lock()
	items := c.t.snapshot(order)
	c.lk.unlock()
	rangeItems(items, fn)
}
