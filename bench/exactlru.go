package main

import (
	"container/list"
	"sync"

	"github.com/picpool/picpool/cache"
)

// exactLRU is a byte-bounded least-recently-used cache written to be
// obviously right rather than fast, one item charged cache.Cost like every
// engine. Over a container/list it is the reference that picpool's lru must
// match hit for hit and, behind a mutex, the naive contender that any
// engine should outrun; over golang-lru's simplelru it gives golang-lru
// the byte bound it lacks. Not safe for concurrent use by itself.
type exactLRU struct {
	capacity, size int64
	order          recency
}

// recency is an unbounded order of items from most to least recently used.
type recency interface {
	// get returns key's value and makes it the most recently used.
	get(key string) ([]byte, bool)
	// add inserts an absent key as the most recently used.
	add(key string, value []byte)
	// remove deletes key and returns its value, if it was there.
	remove(key string) ([]byte, bool)
	// removeOldest deletes the least recently used item and returns it;
	// it is only called when there is one.
	removeOldest() (string, []byte)
}

func newExactLRU(capacity int64) *exactLRU {
	return &exactLRU{capacity: capacity, order: &listOrder{list.New(), map[string]*list.Element{}}}
}

// Get returns key's value and makes it the most recently used item.
func (l *exactLRU) Get(key string) ([]byte, bool) { return l.order.get(key) }

// Set replaces any previous value of key, then evicts from the least
// recently used end until the item fits, as cache.Engine's Set is
// specified; an item larger than the whole capacity is refused.
func (l *exactLRU) Set(key string, value []byte) error {
	if old, ok := l.order.remove(key); ok {
		l.size -= cache.Cost(key, old)
	}
	cost := cache.Cost(key, value)
	if cost > l.capacity {
		return cache.ErrTooLarge
	}
	for l.size+cost > l.capacity {
		l.size -= cache.Cost(l.order.removeOldest())
	}
	l.order.add(key, value)
	l.size += cost
	return nil
}

// listOrder is recency over a map and a container/list.
type listOrder struct {
	l     *list.List // of *lruItem; front: most recently used
	items map[string]*list.Element
}

type lruItem struct {
	key   string
	value []byte
}

func (o *listOrder) get(key string) ([]byte, bool) {
	e, ok := o.items[key]
	if !ok {
		return nil, false
	}
	o.l.MoveToFront(e)
	return e.Value.(*lruItem).value, true
}

func (o *listOrder) add(key string, value []byte) {
	o.items[key] = o.l.PushFront(&lruItem{key, value})
}

func (o *listOrder) remove(key string) ([]byte, bool) {
	e, ok := o.items[key]
	if !ok {
		return nil, false
	}
	return o.drop(e).value, true
}

func (o *listOrder) removeOldest() (string, []byte) {
	it := o.drop(o.l.Back())
	return it.key, it.value
}

func (o *listOrder) drop(e *list.Element) *lruItem {
	it := o.l.Remove(e).(*lruItem)
	delete(o.items, it.key)
	return it
}

// naiveLRU is the reference exactLRU behind one mutex: the simplest
// concurrent cache, the floor for throughput.
type naiveLRU struct {
	mu  sync.Mutex
	lru *exactLRU
}

func newNaiveLRU(capacity int64) *naiveLRU { return &naiveLRU{lru: newExactLRU(capacity)} }

func (n *naiveLRU) Get(key string) ([]byte, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lru.Get(key)
}

func (n *naiveLRU) Set(key string, value []byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lru.Set(key, value)
}
