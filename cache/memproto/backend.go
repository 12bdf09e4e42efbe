package memproto

import "time"

// Backend is what the server needs of a cache node: items under keys, an
// atomic read-modify-write per key, and a few figures. The memcached
// semantics (add, cas, append, incr, expiry, versions) live in this
// package, as pure decisions over the State that Update hands them; a
// backend only stores what it is told. EngineBackend is one over a
// cache.Engine.
//
// Values are handed out as Value, with a Release: a backend that reuses
// value memory (slabs, memcached-style) counts references and reuses a
// buffer only once every holder has released it, so that a GET being
// written out never sees its bytes replaced.
type Backend interface {
	// Get returns the item under key and true, or false on a miss. The
	// caller owns one reference to the item's Value and releases it when
	// it no longer reads the bytes. peek asks not to update recency where
	// the backend can avoid it (memcached's mg u). Get does not look at
	// Exptime: the server decides what is expired.
	Get(key string, peek bool) (Item, bool)
	// Alloc returns a writable Value of n bytes for a value the server is
	// about to read off the wire or build. The caller owns it until it
	// hands it to Update in a Change with Op Store, or releases it.
	Alloc(n int) (Value, error)
	// Update calls fn exactly once with key's current state, under a lock
	// that orders it with every other Update of key, and applies the
	// Change that fn returns. fn must not call the backend, but Alloc.
	// Update takes over the Value of a Change with Op Store, whether it
	// stores it or fails (ErrNoMemory when the item cannot fit).
	Update(key string, fn func(State) Change) error
	// Flush removes every item. Tombstones stay: a flush does not make a
	// stale version any less stale.
	Flush()
	// Range calls fn with each item until fn returns false. The Value is
	// valid only during the call. It serves "stats cachedump".
	Range(fn func(key string, it Item) bool)
	// Stats returns the backend's figures for the "stats" command.
	Stats() BackendStats
}

// Item is one item as the protocol sees it.
type Item struct {
	Value Value
	// Flags are the client's 32 opaque bits, stored and returned as given.
	Flags uint32
	// Exptime is when the item expires, in Unix seconds; 0: never.
	Exptime int64
	// CAS identifies this version of the item: unique per store from a
	// counter, or a version a client gave (ms E), then Versioned is set.
	CAS uint64
	// Versioned says CAS is a client's version: a versioned store of an
	// older version does not replace this item.
	Versioned bool
	// Stale marks an item invalidated by md I: served with the X flag.
	Stale bool
	// Won records that a client was sent the W flag to recache a stale
	// item; later fetches get Z.
	Won bool
}

// Value is an item's data as a backend hands it out: B, and the reference
// that keeps B from being reused. Nobody may modify B once it is stored.
type Value struct {
	B   []byte
	Ref Releaser // nil when the backend does not count references
}

// Releaser drops one reference to a value's memory.
type Releaser interface{ Release() }

// Release drops the holder's reference to v's memory.
func (v Value) Release() {
	if v.Ref != nil {
		v.Ref.Release()
	}
}

// State is a key's current state, as Update shows it to its fn.
type State struct {
	Item  Item // valid during fn only; zero when !Found
	Found bool // an item is stored (it may be expired: see Item.Exptime)
	// Tombstone is the version of a live versioned delete of key (md E),
	// 0 if there is none: versioned stores below it are refused.
	Tombstone uint64
}

// Op is what a Change does to the item.
type Op uint8

// The operations of a Change.
const (
	Keep   Op = iota // leave the item as it is
	Store            // store Change.Item, value and all
	Modify           // keep the stored value, take Change.Item's other fields
	Delete           // remove the item
)

// Change is what an Update's fn decides.
type Change struct {
	Op   Op
	Item Item // for Store and Modify
	// Tombstone, when above 0, records a versioned delete of that version
	// (kept at the highest seen) for TombstoneTTL, or the backend's
	// default when that is 0.
	Tombstone    uint64
	TombstoneTTL time.Duration
}

// BackendStats are the backend's figures, reported under memcached's names.
type BackendStats struct {
	Items      int64  // curr_items
	Bytes      int64  // bytes
	LimitBytes int64  // limit_maxbytes
	Evictions  int64  // evictions
	Policy     string // the replacement policy's name
	Tombstones int64  // live versioned deletes
}
