package node

import (
	"time"

	"github.com/picpool/picpool/cache/memproto"
)

// store is the node's one store: memproto's EngineBackend over the
// node's engine, counting the node's requests, hits and misses. The data
// port, the HTTP API and the partition streams all use it.
type store struct {
	*memproto.EngineBackend
	n *Node
}

var _ memproto.Backend = store{}

// Get is the one read of the node's store: every lookup, on the data
// port or the HTTP API, is served here. It counts a request and a hit or
// a miss, unless peek: a client looking again for a key it has just
// missed (see the pool's GetOrLoad) asks this way (memcached's mg u), so
// that one lookup is one miss in the statistics the autoscaler reads.
func (s store) Get(key string, peek bool) (memproto.Item, bool) {
	it, ok := s.EngineBackend.Get(key, peek)
	if ok && it.Exptime != 0 && it.Exptime <= time.Now().Unix() {
		it.Value.Release()
		it, ok = memproto.Item{}, false // expired: the server answers a miss
	}
	if !peek {
		s.n.requests.Add(1)
		if ok {
			s.n.hits.Add(1)
		} else {
			s.n.misses.Add(1)
		}
		s.n.curve.lookup(key, len(it.Value.B), ok)
	}
	return it, ok
}

// Update counts a request: a store, a delete or a touch of key. A store
// of a key the node did not hold is the second half of a miss in the
// node's curve (see curve.filled).
func (s store) Update(key string, fn func(memproto.State) memproto.Change) error {
	s.n.requests.Add(1)
	filled := -1
	err := s.EngineBackend.Update(key, func(st memproto.State) memproto.Change {
		c := fn(st)
		filled = -1
		if c.Op == memproto.Store && !st.Found {
			filled = len(c.Item.Value.B)
		}
		return c
	})
	if err == nil && filled >= 0 {
		s.n.curve.filled(key, filled)
	}
	return err
}

// Flush counts a request: flush_all, or a clear over HTTP.
func (s store) Flush() {
	s.n.requests.Add(1)
	s.EngineBackend.Flush()
}
