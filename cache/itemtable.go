package cache

import (
	"hash/maphash"
	"unsafe"
)

// itemTable is the storage the mutex-guarded engines share: items live in a
// chunked arena of fixed-size entries, found through an open-addressing
// hash index of 8-byte slots. Compared with map[string]*item it allocates
// nothing per Set in the steady state and keeps the real bookkeeping per
// item (a 48-byte entry plus 11-21 bytes of index) near ItemOverhead.
//
// The table is not safe for concurrent use: the engine that owns it holds
// its lock around every call except hash, which reads only the seed.
type itemTable struct {
	seed   maphash.Seed
	slots  []uint64 // fingerprint<<32 | entry index; 0 is an empty slot
	mask   uint32   // len(slots)-1
	chunks [][]entry
	count  int   // items held; their entries are 1..count
	used   int64 // bytes charged: sum of Cost over the items held
}

// entry is one item. Index 0 is never an item: the LRU uses it as the
// sentinel of its ring.
type entry struct {
	key string
	// value is the caller's []byte held as a string header (see
	// bytesOf): a slice's capacity word would cost 8 bytes an item.
	value string
	// prev and next are the LRU's ring links.
	prev, next uint32
}

// stringOf holds b without copying it. The engine never writes through it.
func stringOf(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// bytesOf returns the slice stringOf was given (its length, capacity
// trimmed to the length), so Get hands back the caller's own bytes.
func (e *entry) bytesOf() []byte { return unsafe.Slice(unsafe.StringData(e.value), len(e.value)) }

const (
	chunkBits    = 10 // 1024 entries, 40 KiB, per arena chunk
	chunkSize    = 1 << chunkBits
	minSlots     = 64
	maxLoadNum   = 3 // grow the index past 3/4 full
	maxLoadDenom = 4
	minLoadDenom = 8 // shrink it under 1/8 full
)

func newItemTable() itemTable {
	t := itemTable{seed: maphash.MakeSeed()}
	t.reset()
	return t
}

// hash returns the key's hash. It reads only the seed, so engines call it
// before taking their lock.
func (t *itemTable) hash(key string) uint64 { return maphash.String(t.seed, key) }

// fingerprint is the upper half of the hash: it picks the home slot and is
// stored in the slot, so most mismatches are rejected without touching the
// entry.
func fingerprint(h uint64) uint32 { return uint32(h >> 32) }

func (t *itemTable) at(i uint32) *entry { return &t.chunks[i>>chunkBits][i&(chunkSize-1)] }

// find returns the index of key's entry, or 0, and the slot where the probe
// stopped: key's slot on a hit, the empty slot where it belongs on a miss.
func (t *itemTable) find(h uint64, key string) (pos uint32, idx uint32) {
	fp := fingerprint(h)
	for pos = fp & t.mask; ; pos = (pos + 1) & t.mask {
		s := t.slots[pos]
		if s == 0 {
			return pos, 0
		}
		if uint32(s>>32) == fp && t.at(uint32(s)).key == key {
			return pos, uint32(s)
		}
	}
}

// lookup returns the index of key's entry, or 0.
func (t *itemTable) lookup(h uint64, key string) uint32 {
	_, idx := t.find(h, key)
	return idx
}

// insert adds an item that is not present (find just returned pos for it)
// and returns its entry index.
func (t *itemTable) insert(h uint64, pos uint32, key string, value []byte) uint32 {
	if (t.count+1)*maxLoadDenom > len(t.slots)*maxLoadNum {
		t.grow()
		pos, _ = t.find(h, key)
	}
	idx := uint32(t.count + 1)
	if int(idx>>chunkBits) == len(t.chunks) {
		t.chunks = append(t.chunks, make([]entry, chunkSize))
	}
	e := t.at(idx)
	e.key, e.value = key, stringOf(value)
	t.slots[pos] = uint64(fingerprint(h))<<32 | uint64(idx)
	t.count++
	t.used += Cost(key, value)
	return idx
}

// remove deletes the item at entry idx (the policy must have unlinked it)
// and fills the hole with the last entry, to keep the arena dense. It
// returns the index that entry had, or 0 when idx was the last: a policy
// with links into the arena repoints them (see LRU.removeItem).
func (t *itemTable) remove(idx uint32) (moved uint32) {
	e := t.at(idx)
	pos, _ := t.find(t.hash(e.key), e.key)
	t.deleteSlot(pos)
	t.used -= int64(len(e.key)+len(e.value)) + ItemOverhead
	last := uint32(t.count)
	if idx != last {
		l := t.at(last)
		pos, _ := t.find(t.hash(l.key), l.key)
		t.slots[pos] = t.slots[pos]&^0xFFFFFFFF | uint64(idx)
		*e = *l
		e, moved = l, last
	}
	*e = entry{} // drop the references so the GC can free them
	t.count--
	if t.count*minLoadDenom < len(t.slots) && len(t.slots) > minSlots {
		t.rehash(len(t.slots) / 2)
	}
	// Free a trailing chunk once a whole further chunk is empty too.
	if n := len(t.chunks); n > 1 && t.count+1 < (n-1)*chunkSize-chunkSize/2 {
		t.chunks[n-1] = nil
		t.chunks = t.chunks[:n-1]
	}
	return moved
}

// kv is one item as Range hands it out.
type kv struct {
	key   string
	value []byte
}

// snapshot appends the items at the given entry indices.
func (t *itemTable) snapshot(order func(yield func(uint32) bool)) []kv {
	items := make([]kv, 0, t.count)
	for i := range order {
		e := t.at(i)
		items = append(items, kv{e.key, e.bytesOf()})
	}
	return items
}

// arenaOrder yields the entry indices of every item, in arena order.
func (t *itemTable) arenaOrder(yield func(uint32) bool) {
	for i := uint32(1); i <= uint32(t.count); i++ {
		if !yield(i) {
			return
		}
	}
}

// rangeItems calls fn for each snapshotted item until it returns false.
func rangeItems(items []kv, fn func(key string, value []byte) bool) {
	for _, it := range items {
		if !fn(it.key, it.value) {
			return
		}
	}
}

// randomItem returns the entry index of an item drawn uniformly: the arena
// is dense, so that is one draw. The table must not be empty.
func (t *itemTable) randomItem(intN func(int) int) uint32 {
	return uint32(1 + intN(t.count))
}

// deleteSlot empties pos and shifts later members of its probe run back, so
// lookups never need tombstones (linear probing's backward-shift deletion).
func (t *itemTable) deleteSlot(pos uint32) {
	for {
		t.slots[pos] = 0
		next := pos
		for {
			next = (next + 1) & t.mask
			s := t.slots[next]
			if s == 0 {
				return
			}
			// s may fill the hole at pos unless its home slot lies
			// cyclically in (pos, next]: then pos comes before its home.
			if home := uint32(s>>32) & t.mask; !cyclicBetween(pos, home, next) {
				t.slots[pos] = s
				pos = next
				break
			}
		}
	}
}

// cyclicBetween reports whether x lies in the cyclic interval (lo, hi].
func cyclicBetween(lo, x, hi uint32) bool {
	if lo < hi {
		return lo < x && x <= hi
	}
	return x > lo || x <= hi
}

func (t *itemTable) grow() { t.rehash(2 * len(t.slots)) }

// rehash moves every slot into a new index of n slots (a power of two).
func (t *itemTable) rehash(n int) {
	old := t.slots
	t.slots = make([]uint64, n)
	t.mask = uint32(len(t.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		pos := uint32(s>>32) & t.mask
		for t.slots[pos] != 0 {
			pos = (pos + 1) & t.mask
		}
		t.slots[pos] = s
	}
}

// reset drops every item and the memory that held them. It leaves the
// seed unwritten: hash reads it without the engine's lock, so a Clear
// racing a Get must not store to it, even the same value.
func (t *itemTable) reset() {
	t.slots = make([]uint64, minSlots)
	t.mask = minSlots - 1
	t.chunks = [][]entry{make([]entry, chunkSize)} // holds entry 0, the LRU's sentinel
	t.count, t.used = 0, 0
}

// lookupFingerprint returns the index of the first item whose hash has h's
// fingerprint, or 0. Policies that buffer hits as hashes use it to find the
// entry again: a rare false match only misplaces one recency update.
func (t *itemTable) lookupFingerprint(h uint64) uint32 {
	fp := fingerprint(h)
	for pos := fp & t.mask; ; pos = (pos + 1) & t.mask {
		s := t.slots[pos]
		if s == 0 {
			return 0
		}
		if uint32(s>>32) == fp {
			return uint32(s)
		}
	}
}

// replace swaps the value of the item at entry i in place and returns the
// change in its cost.
func (t *itemTable) replace(i uint32, value []byte) (delta int64) {
	e := t.at(i)
	delta = int64(len(value)) - int64(len(e.value))
	e.value = stringOf(value)
	t.used += delta
	return delta
}

// cost is what the item at this entry is charged (see Cost).
func (e *entry) cost() int64 { return int64(len(e.key)+len(e.value)) + ItemOverhead }
