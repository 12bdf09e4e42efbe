package main

import (
	"fmt"
	"math"

	"github.com/dgraph-io/ristretto/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/maypok86/otter/v2"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// The peer libraries behind sim.Store. Each is charged cache.Cost per
// item against the same byte capacity as picpool's engines, so that at a
// given capacity every contender can hold the same items.

func weight(key string, value []byte) uint32 { return uint32(cache.Cost(key, value)) }

// otterStore is otter v2 bounded by weight.
type otterStore struct{ c *otter.Cache[string, []byte] }

func newOtter(s sizing) (sim.Store, error) {
	c, err := otter.New(&otter.Options[string, []byte]{MaximumWeight: uint64(s.capacity), Weigher: weight})
	if err != nil {
		return nil, fmt.Errorf("otter: %w", err)
	}
	return otterStore{c}, nil
}

func (o otterStore) Get(key string) ([]byte, bool) { return o.c.GetIfPresent(key) }

func (o otterStore) Set(key string, value []byte) error {
	o.c.Set(key, value)
	return nil
}

// ristrettoStore is ristretto bounded by cost. Ristretto applies Sets
// later, from a buffer, and may drop them; in a replay it waits for each
// Set, or its hit ratio would depend on timing rather than its policy.
type ristrettoStore struct {
	c    *ristretto.Cache[string, []byte]
	wait bool
}

func newRistretto(s sizing) (sim.Store, error) {
	c, err := ristretto.NewCache(&ristretto.Config[string, []byte]{
		NumCounters:        10 * int64(max(s.items, 1)), // as its documentation advises: 10 × the items it holds when full
		MaxCost:            s.capacity,
		BufferItems:        64, // its documented default
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, fmt.Errorf("ristretto: %w", err)
	}
	return &ristrettoStore{c: c, wait: s.replay}, nil
}

func (r *ristrettoStore) Get(key string) ([]byte, bool) { return r.c.Get(key) }

func (r *ristrettoStore) Set(key string, value []byte) error {
	r.c.Set(key, value, cache.Cost(key, value))
	if r.wait {
		r.c.Wait()
	}
	return nil
}

// Close stops ristretto's goroutines, so they do not run during the next
// contender's measurement.
func (r *ristrettoStore) Close() { r.c.Close() }

// newGolangLRU is golang-lru v2 as people use it: bounded by a count of
// items, which is exact when every item costs the same (the throughput
// workload). A replay of images of many sizes needs a byte bound, which
// golang-lru does not have: there it is simplelru (golang-lru's own
// unlocked LRU) with the byte bound kept beside it.
func newGolangLRU(s sizing) (sim.Store, error) {
	if s.replay {
		return newLRUBytes(s.capacity)
	}
	c, err := lru.New[string, []byte](max(s.items, 1))
	if err != nil {
		return nil, fmt.Errorf("golang-lru: %w", err)
	}
	return lruCount{c}, nil
}

type lruCount struct{ c *lru.Cache[string, []byte] }

func (l lruCount) Get(key string) ([]byte, bool) { return l.c.Get(key) }

func (l lruCount) Set(key string, value []byte) error {
	l.c.Add(key, value)
	return nil
}

// simplelruOrder is golang-lru's own unlocked LRU as the recency order of
// an exactLRU, which keeps the byte bound golang-lru does not have.
type simplelruOrder struct {
	c *simplelru.LRU[string, []byte]
}

func newLRUBytes(capacity int64) (*exactLRU, error) {
	c, err := simplelru.NewLRU[string, []byte](math.MaxInt, nil)
	if err != nil {
		return nil, fmt.Errorf("golang-lru: %w", err)
	}
	return &exactLRU{capacity: capacity, order: simplelruOrder{c}}, nil
}

func (o simplelruOrder) get(key string) ([]byte, bool) { return o.c.Get(key) }
func (o simplelruOrder) add(key string, value []byte)  { o.c.Add(key, value) }

func (o simplelruOrder) remove(key string) ([]byte, bool) {
	v, ok := o.c.Peek(key)
	if ok {
		o.c.Remove(key)
	}
	return v, ok
}

func (o simplelruOrder) removeOldest() (string, []byte) {
	k, v, _ := o.c.RemoveOldest()
	return k, v
}
