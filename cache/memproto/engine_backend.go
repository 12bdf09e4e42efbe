package memproto

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
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
// item's suffix beside its data. Updates of a key are serialized by one
// of a set of striped locks; reads take the stripe's read lock only to
// decode the suffix, which a metadata-only change rewrites in place.
//
// Values are plain Go memory (Value.Ref is nil): the garbage collector
// reclaims a replaced value once no GET still holds it.
type EngineBackend struct {
	engine cache.Engine
	policy string
	locks  [256]sync.RWMutex
	seed   maphash.Seed
	tombs  *tombstoneSet
	ttl    time.Duration
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
}

// Defaults of EngineOptions.
const (
	DefaultTombstoneTTL  = 2 * time.Minute
	DefaultMaxTombstones = 1 << 16
)

// suffixBytes is the item suffix: CAS (8), expiry (8), client flags (4),
// state bits (1).
const suffixBytes = 21

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
	return &EngineBackend{
		engine: e,
		policy: name,
		seed:   maphash.MakeSeed(),
		tombs:  newTombstoneSet(cmp.Or(opts.MaxTombstones, DefaultMaxTombstones)),
		ttl:    cmp.Or(opts.TombstoneTTL, DefaultTombstoneTTL),
	}, nil
}

func (b *EngineBackend) lock(key string) *sync.RWMutex {
	return &b.locks[maphash.String(b.seed, key)%uint64(len(b.locks))]
}

// Get returns key's item. peek is not honoured: the engines have no
// lookup that leaves recency alone.
func (b *EngineBackend) Get(key string, peek bool) (Item, bool) {
	mu := b.lock(key)
	mu.RLock()
	defer mu.RUnlock()
	stored, ok := b.engine.Get(key)
	if !ok || len(stored) < suffixBytes {
		return Item{}, false
	}
	return decodeItem(stored), true
}

// Alloc returns n bytes with room for the suffix behind them.
func (b *EngineBackend) Alloc(n int) (Value, error) {
	return Value{B: make([]byte, n, n+suffixBytes)}, nil
}

// Update applies fn's decision to key under the key's lock.
func (b *EngineBackend) Update(key string, fn func(State) Change) error {
	mu := b.lock(key)
	mu.Lock()
	defer mu.Unlock()
	now := time.Now()
	stored, found := b.engine.Get(key)
	found = found && len(stored) >= suffixBytes
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
		if cap(data) == len(data)+suffixBytes { // from Alloc: the suffix's room is ours
			full = data[:len(data)+suffixBytes]
		} else {
			full = append(make([]byte, 0, len(data)+suffixBytes), data...)[:len(data)+suffixBytes]
		}
		encodeSuffix(full[len(data):], ch.Item)
		if err := b.engine.Set(key, full); err != nil {
			if found {
				b.removes.Add(1) // the engine dropped the old value too
			}
			return fmt.Errorf("%w: %d bytes", ErrNoMemory, len(data))
		}
		if !found {
			b.adds.Add(1)
		}
	case Modify:
		if found {
			encodeSuffix(stored[len(stored)-suffixBytes:], ch.Item)
		}
	case Delete:
		if b.engine.Delete(key) {
			b.removes.Add(1)
		}
	}
	return nil
}

// Flush removes every item; tombstones stay. It holds every stripe's
// lock: the engines' Clear rewrites the hash seed that their lookups read
// before taking their own lock (a race in package cache, harmless in
// value but a race), so no lookup may run meanwhile.
func (b *EngineBackend) Flush() {
	for i := range b.locks {
		b.locks[i].Lock()
	}
	defer func() {
		for i := range b.locks {
			b.locks[i].Unlock()
		}
	}()
	b.removes.Add(int64(b.engine.Len()))
	b.engine.Clear()
}

// Range calls fn with each item, decoded under its key's read lock.
func (b *EngineBackend) Range(fn func(key string, it Item) bool) {
	r, ok := b.engine.(cache.Ranger)
	if !ok {
		return
	}
	r.Range(func(key string, stored []byte) bool {
		if len(stored) < suffixBytes {
			return true
		}
		mu := b.lock(key)
		mu.RLock()
		it := decodeItem(stored)
		mu.RUnlock()
		return fn(key, it)
	})
}

// Stats returns the engine's figures. Evictions are what the engine
// holds less than this backend put in and took out, so they are exact
// when no update runs meanwhile.
func (b *EngineBackend) Stats() BackendStats {
	items := int64(b.engine.Len())
	return BackendStats{
		Items:      items,
		Bytes:      b.engine.Size(),
		LimitBytes: b.engine.Capacity(),
		Evictions:  max(0, b.adds.Load()-b.removes.Load()-items),
		Policy:     b.policy,
		Tombstones: int64(b.tombs.count()),
	}
}

func decodeItem(stored []byte) Item {
	n := len(stored) - suffixBytes
	s := stored[n:]
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

func encodeSuffix(s []byte, it Item) {
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
}
