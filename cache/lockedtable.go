package cache

import "sync"

// lockedTable is what Random, SIEVE and TinyLFU share: an item table
// behind a read-write lock, and the byte bound. Their Get holds the read
// lock only (a hit writes nothing the other readers read: Random nothing,
// SIEVE a bit, atomically, TinyLFU into a read buffer), so lookups run in
// parallel; everything that changes the table holds the write lock.
type lockedTable struct {
	mu       sync.RWMutex
	t        itemTable
	capacity int64
}

func newLockedTable(capacity int64) lockedTable {
	return lockedTable{t: newItemTable(), capacity: capacity}
}

// Len returns the number of items.
func (c *lockedTable) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.t.count
}

// Size returns the bytes charged for the items held.
func (c *lockedTable) Size() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.t.used
}

// Capacity returns the bound on Size.
func (c *lockedTable) Capacity() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.capacity
}

// rangeIn calls fn, without the lock, for a snapshot of the items taken
// in the given order.
func (c *lockedTable) rangeIn(order func(yield func(uint32) bool), fn func(key string, value []byte) bool) {
	c.mu.RLock()
	items := c.t.snapshot(order)
	c.mu.RUnlock()
	rangeItems(items, fn)
}
