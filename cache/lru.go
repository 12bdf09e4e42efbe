package cache

import "sync"

// LRU evicts the least recently used item: exact order, kept in a ring
// through the item table's entries, one mutex around every operation (an
// exact global order cannot be sharded). Keys are hashed before the lock is
// taken to keep the critical section short.
type LRU struct {
	mu       sync.Mutex
	t        itemTable
	capacity int64
}

var (
	_ Engine = (*LRU)(nil)
	_ Ranger = (*LRU)(nil)
)

func newLRU(capacity int64) *LRU {
	return &LRU{t: newItemTable(), capacity: capacity}
}

// The ring's sentinel is entry 0: its next is the most recently used item,
// its prev the least recently used; an empty ring links it to itself.

func (c *LRU) unlink(i uint32) {
	e := c.t.at(i)
	c.t.at(e.prev).next = e.next
	c.t.at(e.next).prev = e.prev
}

func (c *LRU) pushFront(i uint32) {
	s := c.t.at(0)
	e := c.t.at(i)
	e.prev, e.next = 0, s.next
	c.t.at(s.next).prev = i
	s.next = i
}

// Get returns key's value and makes it the most recently used item.
func (c *LRU) Get(key string) ([]byte, bool) {
	h := c.t.hash(key)
	c.mu.Lock()
	i := c.t.lookup(h, key)
	if i == 0 {
		c.mu.Unlock()
		return nil, false
	}
	if c.t.at(0).next != i {
		c.unlink(i)
		c.pushFront(i)
	}
	v := c.t.at(i).bytesOf()
	c.mu.Unlock()
	return v, true
}

// Set stores the item as the most recently used one, evicting from the
// least recently used end until it fits.
func (c *LRU) Set(key string, value []byte) error {
	h := c.t.hash(key)
	cost := Cost(key, value)
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := c.t.lookup(h, key); i != 0 {
		c.removeItem(i)
	}
	if cost > c.capacity {
		return ErrTooLarge
	}
	for c.t.used+cost > c.capacity {
		c.removeItem(c.t.at(0).prev)
	}
	pos, _ := c.t.find(h, key)
	c.pushFront(c.t.insert(h, pos, key, value))
	return nil
}

func (c *LRU) removeItem(i uint32) {
	c.unlink(i)
	if moved := c.t.remove(i); moved != 0 {
		// The arena's last entry now lives at i: repoint its neighbours.
		e := c.t.at(i)
		c.t.at(e.prev).next = i
		c.t.at(e.next).prev = i
	}
}

// Delete removes key and reports whether it was present.
func (c *LRU) Delete(key string) bool {
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
func (c *LRU) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t.reset()
}

// Len returns the number of items.
func (c *LRU) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.count
}

// Size returns the bytes charged for the items held.
func (c *LRU) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.used
}

// Capacity returns the bound on Size.
func (c *LRU) Capacity() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.capacity
}

// SetCapacity changes the bound, evicting least recently used items at once
// until Size fits it.
func (c *LRU) SetCapacity(bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.capacity = max(bytes, 0)
	for c.t.used > c.capacity {
		c.removeItem(c.t.at(0).prev)
	}
}

// Range calls fn for a snapshot of the items, most recently used first.
func (c *LRU) Range(fn func(key string, value []byte) bool) {
	c.mu.Lock()
	items := c.t.snapshot(c.recencyOrder)
	c.mu.Unlock()
	rangeItems(items, fn)
}

// recencyOrder yields entry indices from most to least recently used.
func (c *LRU) recencyOrder(yield func(uint32) bool) {
	for i := c.t.at(0).next; i != 0; i = c.t.at(i).next {
		if !yield(i) {
			return
		}
	}
}

// keys returns the keys from most to least recently used, for tests.
func (c *LRU) keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ks []string
	for i := c.t.at(0).next; i != 0; i = c.t.at(i).next {
		ks = append(ks, c.t.at(i).key)
	}
	return ks
}
