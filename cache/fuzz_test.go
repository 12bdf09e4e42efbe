package cache

import (
	"bytes"
	"testing"
)

// FuzzEngine decodes the input into an operation sequence (three bytes an
// operation) and runs it on every policy, checking what holds for all of
// them: a hit returns the last value set for the key, Size is the sum of
// the costs of what is held and never above Capacity. The lru engine must
// also match the reference model exactly.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{}, uint16(0))
	f.Add([]byte{20, 1, 50, 20, 2, 50, 0, 1, 0, 20, 3, 255, 30, 0, 10, 0, 2, 0}, uint16(400))
	f.Add(bytes.Repeat([]byte{15, 7, 90, 3, 7, 1, 29, 7, 0}, 20), uint16(1000))
	f.Fuzz(func(t *testing.T, data []byte, capacity uint16) {
		var ops []op
		for i := 0; i+2 < len(data) && len(ops) < 500; i += 3 {
			ops = append(ops, decodeOp(data[i], data[i+1], data[i+2]))
		}
		checkLRUAgainstModel(t, int64(capacity), ops)
		for _, p := range Policies() {
			checkInvariants(t, mustNew(t, p, int64(capacity)), ops)
		}
	})
}

// checkInvariants applies ops to e with a shadow of the last value set per
// key, and checks every result against what any policy may do.
func checkInvariants(t *testing.T, e Engine, ops []op) {
	t.Helper()
	last := map[string][]byte{} // last value set per key, while it may be held
	for n, o := range ops {
		switch o.kind {
		case 0:
			v, ok := e.Get(o.key)
			want, mayHold := last[o.key]
			if ok && (!mayHold || !bytes.Equal(v, want)) {
				t.Fatalf("op %d %v: hit with a value that was never the last one set", n, o)
			}
		case 1:
			if err := e.Set(o.key, o.value); err != nil {
				delete(last, o.key)
				if Cost(o.key, o.value) <= e.Capacity() {
					t.Fatalf("op %d %v: %v although the item fits the capacity %d", n, o, err, e.Capacity())
				}
			} else {
				last[o.key] = o.value
				if got, ok := e.Get(o.key); !ok || !bytes.Equal(got, o.value) {
					t.Fatalf("op %d %v: Get right after Set missed", n, o)
				}
			}
		case 2:
			_, mayHold := last[o.key]
			if e.Delete(o.key) && !mayHold {
				t.Fatalf("op %d %v: deleted a key that was never set", n, o)
			}
			delete(last, o.key)
		case 3:
			e.Clear()
			clear(last)
		case 4:
			e.SetCapacity(o.cap)
		}
		if e.Size() > e.Capacity() {
			t.Fatalf("after op %d %v: Size() %d > Capacity() %d", n, o, e.Size(), e.Capacity())
		}
	}
	// At rest, Len and Size account exactly for what Get finds.
	var size int64
	var count int
	for k, v := range last {
		if _, ok := e.Get(k); ok {
			size += Cost(k, v)
			count++
		}
	}
	if e.Len() != count || e.Size() != size {
		t.Fatalf("at rest: Len %d Size %d, but the held items are %d costing %d", e.Len(), e.Size(), count, size)
	}
}
