package memproto

import (
	"strconv"
	"time"
)

// The decisions below are memcached's semantics for writes, as pure
// functions of a key's State: the classic commands and the meta ones
// build a request and share them, and Backend.Update applies the Change.

// Storage modes, as ms's M flag names them.
const (
	modeSet     = 'S'
	modeAdd     = 'E'
	modeReplace = 'R'
	modeAppend  = 'A'
	modePrepend = 'P'
)

// storeReq is one storage request, classic or meta.
type storeReq struct {
	mode    byte
	value   Value // the data read off the wire; the caller owns it
	flags   uint32
	exptime int64 // absolute Unix seconds; 0: never
	dead    bool  // the expiry time is already past: a store removes the item
	// compare, when hasCompare, is the CAS the item must have (cas, ms C).
	compare    uint64
	hasCompare bool
	// invalid (ms I) lets a compare CAS lower than the item's store the
	// value marked stale instead of failing.
	invalid bool
	// version (ms E), when above 0, is the new item's CAS, and a store is
	// refused if a newer version or a newer versioned delete is held.
	version uint64
	cas     uint64 // the new item's CAS otherwise
}

// Results of a store, as the classic and meta replies name them.
type storeResult uint8

const (
	resStored    storeResult = iota // STORED, HD
	resNotStored                    // NOT_STORED, NS
	resExists                       // EXISTS, EX
	resNotFound                     // NOT_FOUND, NF
	resNoMemory                     // SERVER_ERROR out of memory
)

// storeOutcome is decideStore's answer. consumed says the request's
// value went into the change (Update then owns it); otherwise the caller
// still owns it.
type storeOutcome struct {
	change   Change
	result   storeResult
	consumed bool
	cas      uint64 // the stored item's CAS
}

// decideStore decides a storage request against the key's state.
func decideStore(st State, r storeReq, now int64, alloc func(int) (Value, error)) storeOutcome {
	cur := st.Item
	live := st.Found && !expired(cur.Exptime, now)
	keep := storeOutcome{change: Change{Op: Keep}, result: resNotStored}
	if r.version > 0 && (st.Tombstone > r.version || live && cur.Versioned && cur.CAS > r.version) {
		return keep
	}
	staleStore := false
	if r.hasCompare {
		switch {
		case !live:
			keep.result = resNotFound
			return keep
		case cur.CAS == r.compare:
		case r.invalid && r.compare < cur.CAS:
			staleStore = true
		default:
			keep.result = resExists
			return keep
		}
	}
	switch r.mode {
	case modeAdd:
		if live {
			return keep
		}
	case modeReplace, modeAppend, modePrepend:
		if !live {
			return keep
		}
	}
	it := Item{Value: r.value, Flags: r.flags, Exptime: r.exptime, CAS: r.cas}
	if r.version > 0 {
		it.CAS, it.Versioned = r.version, true
	}
	consumed := true
	if r.mode == modeAppend || r.mode == modePrepend {
		v, err := alloc(len(cur.Value.B) + len(r.value.B))
		if err != nil {
			keep.result = resNoMemory
			return keep
		}
		first, second := cur.Value.B, r.value.B
		if r.mode == modePrepend {
			first, second = second, first
		}
		copy(v.B[copy(v.B, first):], second)
		it.Value, it.Flags, it.Exptime = v, cur.Flags, cur.Exptime // appending keeps flags and expiry
		consumed = false
	} else if r.dead {
		// memcached stores it already expired: the old value is gone.
		return storeOutcome{change: Change{Op: Delete}, result: resStored}
	}
	if staleStore {
		it.Stale, it.Won, it.Exptime = true, cur.Won, cur.Exptime
	}
	return storeOutcome{change: Change{Op: Store, Item: it}, result: resStored, consumed: consumed, cas: it.CAS}
}

// arithReq is one incr or decr, classic or meta (ma).
type arithReq struct {
	decr       bool
	delta      uint64
	compare    uint64
	hasCompare bool
	// create (ma N) makes a missing item with initial, expiring at
	// createExptime.
	create        bool
	initial       uint64
	createExptime int64
	touch         bool // set exptime (ma T)
	exptime       int64
	cas           uint64 // the new item's CAS
}

// Results of an arithmetic request beyond the store ones.
const (
	resNonNumeric storeResult = iota + resNoMemory + 1
)

// arithOutcome is decideArith's answer: the new number and item.
type arithOutcome struct {
	change Change
	result storeResult // resStored, resNotFound, resExists, resNonNumeric, resNoMemory
	number uint64
	item   Item
}

// decideArith decides an incr or decr: the item's data is a decimal
// number; incr wraps at 2^64, decr stops at 0.
func decideArith(st State, r arithReq, now int64, alloc func(int) (Value, error)) arithOutcome {
	cur := st.Item
	live := st.Found && !expired(cur.Exptime, now)
	var it Item
	var n uint64
	switch {
	case !live && !r.create:
		return arithOutcome{result: resNotFound}
	case !live:
		n, it = r.initial, Item{Exptime: r.createExptime}
	case r.hasCompare && cur.CAS != r.compare:
		return arithOutcome{result: resExists}
	default:
		var ok bool
		if n, ok = parseCounter(cur.Value.B); !ok {
			return arithOutcome{result: resNonNumeric}
		}
		if r.decr {
			n -= min(n, r.delta)
		} else {
			n += r.delta
		}
		it = cur
	}
	if r.touch {
		it.Exptime = r.exptime
	}
	var digits [20]byte
	text := strconv.AppendUint(digits[:0], n, 10)
	v, err := alloc(len(text))
	if err != nil {
		return arithOutcome{result: resNoMemory}
	}
	copy(v.B, text)
	it.Value, it.CAS, it.Versioned, it.Stale, it.Won = v, r.cas, false, false, false
	return arithOutcome{change: Change{Op: Store, Item: it}, result: resStored, number: n, item: it}
}

// deleteReq is one delete, classic or meta (md).
type deleteReq struct {
	compare    uint64
	hasCompare bool
	// invalidate (md I) marks the item stale with a new CAS instead of
	// removing it; touch sets its expiry too.
	invalidate bool
	touch      bool
	exptime    int64
	// version (md E), when above 0, leaves a tombstone that refuses
	// versioned stores below it for ttl (0: the backend's default).
	version uint64
	ttl     time.Duration
	cas     uint64
}

// decideDelete decides a delete: resStored means deleted (DELETED, HD).
func decideDelete(st State, r deleteReq, now int64) (Change, storeResult) {
	cur := st.Item
	live := st.Found && !expired(cur.Exptime, now)
	if r.hasCompare && live && cur.CAS != r.compare {
		return Change{Op: Keep}, resExists
	}
	ch := Change{Op: Keep, Tombstone: r.version, TombstoneTTL: r.ttl}
	switch {
	case !live:
		if st.Found {
			ch.Op = Delete // expired: clean it up
		}
		return ch, resNotFound
	case r.invalidate:
		it := cur
		it.Stale, it.Won, it.CAS, it.Versioned = true, false, r.cas, false
		if r.version > 0 {
			it.CAS, it.Versioned = r.version, true
		}
		if r.touch {
			it.Exptime = r.exptime
		}
		ch.Op, ch.Item = Modify, it
	default:
		ch.Op = Delete
	}
	return ch, resStored
}
