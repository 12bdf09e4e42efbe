package main

import (
	"fmt"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// sizing is what a contender is built for.
type sizing struct {
	capacity int64 // bytes; every contender charges cache.Cost per item
	items    int   // the most items that fit (every item when all cost the same), for caches that count items or size a sketch by them
	replay   bool  // a single-threaded trace replay: each Set takes effect before the next Get
}

// contender is one cache under comparison.
type contender struct {
	name    string
	library bool // a peer library: the summary compares picpool with the best of these
	build   func(sizing) (sim.Store, error)
}

// contenders returns every picpool policy, then the peers, then the naive
// mutex LRU, in the order the tables list them.
func contenders() []contender {
	var cs []contender
	for _, p := range cache.Policies() {
		cs = append(cs, contender{name: "picpool-" + p, build: func(s sizing) (sim.Store, error) {
			e, err := cache.New(p, s.capacity)
			if err != nil {
				return nil, fmt.Errorf("picpool %s: %w", p, err)
			}
			return e, nil
		}})
	}
	return append(cs,
		contender{name: "otter", library: true, build: newOtter},
		contender{name: "ristretto", library: true, build: newRistretto},
		contender{name: "golang-lru", library: true, build: newGolangLRU},
		contender{name: "naive-lru", build: func(s sizing) (sim.Store, error) { return newNaiveLRU(s.capacity), nil }},
	)
}

// release stops whatever a store runs in the background, so that it does
// not take CPU from the next measurement.
func release(s sim.Store) {
	if c, ok := s.(interface{ Close() }); ok {
		c.Close()
	}
}
