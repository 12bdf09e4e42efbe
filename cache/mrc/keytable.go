package mrc

// keyTable maps a followed key's hash to its stackEntry: open addressing
// with linear probing over a power-of-two array. Deletion leaves a
// tombstone (an entry of cost 0: every real item costs at least
// cache.ItemOverhead), and the table is rebuilt, to the size its keys
// need, when used slots pass 3/4 or keys fall under 1/8. Unlike a Go map,
// which keeps its peak size, its memory follows the keys and is exactly
// known (bytes), which the memory bound needs.
type keyTable struct {
	slots []keySlot // h 0: empty
	count int       // keys held
	used  int       // slots not empty: keys and tombstones
}

type keySlot struct {
	h uint64
	e stackEntry
}

const minKeySlots = 16

func newKeyTable() keyTable { return keyTable{slots: make([]keySlot, minKeySlots)} }

// find returns the slot of h, or of the empty slot where the probe ended.
func (t *keyTable) find(h uint64) int {
	mask := len(t.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		if s := t.slots[i].h; s == h || s == 0 {
			return i
		}
	}
}

func (t *keyTable) get(h uint64) (stackEntry, bool) {
	s := t.slots[t.find(h)]
	return s.e, s.h == h && s.e.cost != 0
}

// put sets h's entry; e.cost must not be 0.
func (t *keyTable) put(h uint64, e stackEntry) {
	i := t.find(h)
	if t.slots[i].h == 0 {
		if (t.used+1)*4 > len(t.slots)*3 {
			t.rebuild(t.count + 1)
			i = t.find(h)
		}
		t.used++
	}
	if t.slots[i].e.cost == 0 {
		t.count++
	}
	t.slots[i] = keySlot{h, e}
}

func (t *keyTable) del(h uint64) {
	i := t.find(h)
	if t.slots[i].h != h || t.slots[i].e.cost == 0 {
		return
	}
	t.slots[i].e = stackEntry{}
	t.count--
	if t.count*8 < len(t.slots) && len(t.slots) > minKeySlots {
		t.rebuild(t.count)
	}
}

// rebuild moves the keys into a table sized for n keys at most 2/3 full.
func (t *keyTable) rebuild(n int) {
	old := t.slots
	t.slots = make([]keySlot, max(minKeySlots, pow2(n+n/2+1)))
	t.used = 0
	for _, s := range old {
		if s.e.cost != 0 {
			t.slots[t.find(s.h)] = s
			t.used++
		}
	}
}

// bytes is the table's memory.
func (t *keyTable) bytes() int64 { return int64(len(t.slots)) * 16 }
