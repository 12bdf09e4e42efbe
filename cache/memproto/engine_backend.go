package memproto

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"sync/atomic"
	"time"

	"github.com/picpool/picpool/cache"
)

// ErrNoMemory is returned by Update when an item cannot be stored: it
// alone exceeds the backend's capacity.
var ErrNoMemory = errors.New("memproto: item does not fit in the cache")

// EngineBackend is a Backend over one of package cache's engines: each
// item is stored as one engine value, its data followed by a fixed
// suffix (CAS, expiry, client flags, state bits), as memcached keeps an
// item's suffix beside its data. Each key belongs to one of a set of
// stripes, whose lock orders the key's updates and reads (a
// metadata-only change rewrites the suffix in place).
//
// The buffers of replaced and deleted values are reused for new ones
// once no GET holds them (see holds.go and valuepool.go); evicted ones
// are left to the garbage collector, as the engines do not say which
// they evict.
type EngineBackend struct {
	// eng is the engine and its policy; Configure replaces both while it
	// holds every stripe's lock, so code under a stripe's lock may load it
	// once and use it.
	eng     atomic.Pointer[policyEngine]
	stripes [256]stripe
	seed    maphash.Seed
	tombs   *tombstoneSet
	ttl     time.Duration
	pool    *valuePool
	ranging atomic.Int32 // Ranges running: no buffer is recycled meanwhile
	// adds and removes count the items this backend put in and took out;
	// what else is gone from the engine, it evicted.
	adds, removes atomic.Int64
}

var _ Backend = (*EngineBackend)(nil)

// EngineOptions configures NewEngineBackend. The zero value of each
// field is its default.
type EngineOptions struct {
	// TombstoneTTL is how long a versioned delete keeps older versions
	// out when md does not say (T). It must outlast the slowest load a
	// reader can do. Default: 2 min.
	TombstoneTTL time.Duration
	// MaxTombstones bounds the versioned deletes remembered; past it, the
	// oldest go first. Default: 65536.
	MaxTombstones int
	// PoolBytes bounds the memory of freed values kept for reuse, on top
	// of the engine's capacity. Default: a sixteenth of the capacity, at
	// most 64 MiB; negative: no reuse.
	PoolBytes int64
}

// Defaults of EngineOptions.
const (
	DefaultTombstoneTTL  = 2 * time.Minute
	DefaultMaxTombstones = 1 << 16
)

// suffixBytes is the item suffix, at the end of the stored bytes: CAS
// (8), expiry (8), client flags (4), state bits (1), data length (4). A
// value in a pooled buffer is stored with the whole buffer, so that the
// buffer can be reused when it is freed (the engines keep no capacity),
// and the engine charges the memory it really holds.
const suffixBytes = 25

const (
	bitVersioned = 1 << iota
	bitStale
	bitWon
)

// NewEngineBackend returns an empty backend over a new engine of the
// named policy (see cache.Policies) and capacity in bytes.
func NewEngineBackend(policy string, capacity int64, opts EngineOptions) (*EngineBackend, error) {
	name, ok := cache.CanonicalPolicy(policy)
	if !ok {
		return nil, fmt.Errorf("memproto: %w %q", cache.ErrUnknownPolicy, policy)
	}
	e, err := cache.New(name, capacity)
	if err != nil {
		return nil, fmt.Errorf("memproto: %w", err)
	}
	poolBytes := opts.PoolBytes
	if poolBytes == 0 {
		poolBytes = min(capacity/16, 64<<20)
	}
	b := &EngineBackend{
		seed:  maphash.MakeSeed(),
		tombs: newTombstoneSet(cmp.Or(opts.MaxTombstones, DefaultMaxTombstones)),
		ttl:   cmp.Or(opts.TombstoneTTL, DefaultTombstoneTTL),
		pool:  newValuePool(max(poolBytes, 0)),
	}
	b.eng.Store(&policyEngine{e, name})
	for i := range b.stripes {
		b.stripes[i].held = map[*byte]*hold{}
	}
	return b, nil
}

func (b *EngineBackend) stripe(key string) *stripe {
	return &b.stripes[maphash.String(b.seed, key)%uint64(len(b.stripes))]
}

// Get returns key's item, its buffer held until the value's Release.
// peek is not honoured: the engines have no lookup that leaves recency
// alone.
func (b *EngineBackend) Get(key string, peek bool) (Item, bool) {
	s := b.stripe(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := b.eng.Load().Get(key)
	if !ok {
		return Item{}, false
	}
	it := decodeItem(stored)
	it.Value.Ref = b.holdLocked(s, stored)
	return it, true
}

// Alloc returns n bytes with room for the suffix behind them: a reused
// buffer when the pool has one of the size, whose bytes are then stale.
func (b *EngineBackend) Alloc(n int) (Value, error) {
	full := n + suffixBytes
	if buf := b.pool.get(full); buf != nil {
		return Value{B: buf[:n]}, nil
	}
	if full < poolMinBytes {
		return Value{B: make([]byte, n, full)}, nil
	}
	return Value{B: make([]byte, n, sizeClass(full))}, nil // poolable once freed
}

// Update applies fn's decision to key under the key's lock.
func (b *EngineBackend) Update(key string, fn func(State) Change) error {
	s := b.stripe(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	engine := b.eng.Load()
	stored, found := engine.Get(key)
	st := State{Found: found, Tombstone: b.tombs.version(key, now)}
	if found {
		st.Item = decodeItem(stored)
	}
	ch := fn(st)
	if ch.Tombstone > 0 {
		b.tombs.record(key, ch.Tombstone, now, cmp.Or(ch.TombstoneTTL, b.ttl))
	}
	switch ch.Op {
	case Store:
		data := ch.Item.Value.B
		var full []byte
		if cap(data)-len(data) >= suffixBytes { // from Alloc: the buffer is ours
			full = data[:cap(data)]
		} else {
			full = append(make([]byte, 0, len(data)+suffixBytes), data...)[:len(data)+suffixBytes]
		}
		encodeSuffix(full, ch.Item)
		err := engine.Set(key, full)
		if found {
			b.retireLocked(s, stored) // replaced, or dropped with a failed set
		}
		if err != nil {
			if found {
				b.removes.Add(1)
			}
			return fmt.Errorf("%w: %d bytes", ErrNoMemory, len(data))
		}
		if !found {
			b.adds.Add(1)
		}
	case Modify:
		if found {
			ch.Item.Value.B = stored[:decodedLen(stored)]
			encodeSuffix(stored, ch.Item)
		}
	case Delete:
		if engine.Delete(key) {
			b.removes.Add(1)
		}
		if found {
			b.retireLocked(s, stored)
		}
	}
	return nil
}

// Flush removes every item; tombstones stay. It holds every stripe's
// lock: the engines' Clear rewrites the hash seed that their lookups read
// before taking their own lock (a race in package cache, harmless in
// value but a race), so no lookup may run meanwhile.
func (b *EngineBackend) Flush() {
	for i := range b.stripes {
		b.stripes[i].mu.Lock()
	}
	defer func() {
		for i := range b.stripes {
			b.stripes[i].mu.Unlock()
		}
	}()
	engine := b.eng.Load()
	b.removes.Add(int64(engine.Len()))
	engine.Clear()
}

// Range calls fn with each item, decoded under its key's lock. No buffer
// is recycled while it runs, so the values it hands out stay intact.
func (b *EngineBackend) Range(fn func(key string, it Item) bool) {
	r, ok := b.eng.Load().Engine.(cache.Ranger)
	if !ok {
		return
	}
	b.ranging.Add(1)
	defer b.ranging.Add(-1)
	r.Range(func(key string, stored []byte) bool {
		s := b.stripe(key)
		s.mu.Lock()
		it := decodeItem(stored)
		s.mu.Unlock()
		return fn(key, it)
	})
}

// Stats returns the engine's figures. Evictions are what the engine
// holds less than this backend put in and took out, so they are exact
// when no update runs meanwhile.
func (b *EngineBackend) Stats() BackendStats {
	engine := b.eng.Load()
	items := int64(engine.Len())
	return BackendStats{
		Items:      items,
		Bytes:      engine.Size(),
		LimitBytes: engine.Capacity(),
		Evictions:  max(0, b.adds.Load()-b.removes.Load()-items),
		Policy:     engine.policy,
		Tombstones: int64(b.tombs.count()),
	}
}

// decodeItem reads a stored item; its value's capacity ends at its data.
func decodeItem(stored []byte) Item {
	n := decodedLen(stored)
	s := stored[len(stored)-suffixBytes:]
	bits := s[20]
	return Item{
		Value:     Value{B: stored[:n:n]},
		CAS:       binary.BigEndian.Uint64(s[0:]),
		Exptime:   int64(binary.BigEndian.Uint64(s[8:])),
		Flags:     binary.BigEndian.Uint32(s[16:]),
		Versioned: bits&bitVersioned != 0,
		Stale:     bits&bitStale != 0,
		Won:       bits&bitWon != 0,
	}
}

// decodedLen is the data length of a stored item.
func decodedLen(stored []byte) int {
	return int(binary.BigEndian.Uint32(stored[len(stored)-4:]))
}

// encodeSuffix writes it's suffix at the end of full, whose data is
// it.Value.B's length.
func encodeSuffix(full []byte, it Item) {
	s := full[len(full)-suffixBytes:]
	binary.BigEndian.PutUint64(s[0:], it.CAS)
	binary.BigEndian.PutUint64(s[8:], uint64(it.Exptime))
	binary.BigEndian.PutUint32(s[16:], it.Flags)
	var bits byte
	if it.Versioned {
		bits |= bitVersioned
	}
	if it.Stale {
		bits |= bitStale
	}
	if it.Won {
		bits |= bitWon
	}
	s[20] = bits
	binary.BigEndian.PutUint32(s[21:], uint32(len(it.Value.B)))
}
