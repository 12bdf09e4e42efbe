package cache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// lruModel is the reference LRU: a slice from most to least recently used,
// as simple as it can be so that it is obviously right.
type lruModel struct {
	items    []modelItem
	capacity int64
}

type modelItem struct {
	key   string
	value []byte
}

func (m *lruModel) size() int64 {
	var n int64
	for _, it := range m.items {
		n += Cost(it.key, it.value)
	}
	return n
}

func (m *lruModel) index(key string) int {
	return slices.IndexFunc(m.items, func(it modelItem) bool { return it.key == key })
}

func (m *lruModel) get(key string) ([]byte, bool) {
	i := m.index(key)
	if i < 0 {
		return nil, false
	}
	it := m.items[i]
	m.items = slices.Insert(slices.Delete(m.items, i, i+1), 0, it)
	return it.value, true
}

func (m *lruModel) set(key string, value []byte) error {
	m.delete(key)
	if Cost(key, value) > m.capacity {
		return ErrTooLarge
	}
	for m.size()+Cost(key, value) > m.capacity {
		m.items = m.items[:len(m.items)-1]
	}
	m.items = slices.Insert(m.items, 0, modelItem{key, value})
	return nil
}

func (m *lruModel) delete(key string) bool {
	i := m.index(key)
	if i < 0 {
		return false
	}
	m.items = slices.Delete(m.items, i, i+1)
	return true
}

func (m *lruModel) setCapacity(c int64) {
	m.capacity = max(c, 0)
	for m.size() > m.capacity {
		m.items = m.items[:len(m.items)-1]
	}
}

func (m *lruModel) keys() []string {
	var ks []string
	for _, it := range m.items {
		ks = append(ks, it.key)
	}
	return ks
}

// op is one engine operation, decoded from random numbers or fuzz input.
type op struct {
	kind  byte // 0 get, 1 set, 2 delete, 3 clear, 4 set capacity
	key   string
	value []byte
	cap   int64
}

func (o op) String() string {
	switch o.kind {
	case 0:
		return fmt.Sprintf("Get(%q)", o.key)
	case 1:
		return fmt.Sprintf("Set(%q, %d bytes)", o.key, len(o.value))
	case 2:
		return fmt.Sprintf("Delete(%q)", o.key)
	case 3:
		return "Clear()"
	}
	return fmt.Sprintf("SetCapacity(%d)", o.cap)
}

// decodeOp turns three bytes into an operation over a small key space, so
// that sequences revisit keys and force evictions.
func decodeOp(a, b, c byte) op {
	o := op{key: fmt.Sprintf("k%d", b%13)}
	switch k := a % 32; {
	case k < 12:
		o.kind = 0
	case k < 26:
		o.kind = 1
		o.value = make([]byte, int(c)*3)
		for i := range o.value {
			o.value[i] = b ^ byte(i)
		}
	case k < 30:
		o.kind = 2
	case k < 31:
		o.kind = 4
		o.cap = int64(c) * 8
	default:
		o.kind = 3
	}
	return o
}

// checkLRUAgainstModel applies ops to a real LRU and to the model and fails
// at the first difference in results, contents, order or accounting.
func checkLRUAgainstModel(t *testing.T, capacity int64, ops []op) {
	t.Helper()
	c := newLRU(capacity)
	m := &lruModel{capacity: capacity}
	for n, o := range ops {
		switch o.kind {
		case 0:
			got, ok := c.Get(o.key)
			want, wantOK := m.get(o.key)
			if ok != wantOK || string(got) != string(want) {
				t.Fatalf("op %d %v = %d bytes, %v; model %d bytes, %v", n, o, len(got), ok, len(want), wantOK)
			}
		case 1:
			err, want := c.Set(o.key, o.value), m.set(o.key, o.value)
			if !errors.Is(err, want) {
				t.Fatalf("op %d %v: err %v, model %v", n, o, err, want)
			}
		case 2:
			if got, want := c.Delete(o.key), m.delete(o.key); got != want {
				t.Fatalf("op %d %v = %v, model %v", n, o, got, want)
			}
		case 3:
			c.Clear()
			m.items = nil
		case 4:
			c.SetCapacity(o.cap)
			m.setCapacity(o.cap)
		}
		if got, want := c.keys(), m.keys(); !slices.Equal(got, want) {
			t.Fatalf("after op %d %v: order %q, model %q", n, o, got, want)
		}
		if c.Size() != m.size() || c.Len() != len(m.items) || c.Capacity() != m.capacity {
			t.Fatalf("after op %d %v: Size %d Len %d Capacity %d, model %d %d %d",
				n, o, c.Size(), c.Len(), c.Capacity(), m.size(), len(m.items), m.capacity)
		}
	}
}

// TestLRUMatchesModel drives the LRU with random operation sequences and
// demands the same results, contents and recency order as the model.
func TestLRUMatchesModel(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 1))
		ops := make([]op, 400)
		for i := range ops {
			ops[i] = decodeOp(byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()))
		}
		capacity := int64(r.IntN(2000))
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { checkLRUAgainstModel(t, capacity, ops) })
	}
}

// TestLRUIndexGrowsAndShrinks pushes the item table through several index
// growths and many backward-shift deletions, and checks every key is still
// found with its own value.
func TestLRUIndexGrowsAndShrinks(t *testing.T) {
	c := newLRU(1 << 30)
	const n = 20000
	for i := range n {
		if err := c.Set(fmt.Sprintf("key-%d", i), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i += 3 {
		if !c.Delete(fmt.Sprintf("key-%d", i)) {
			t.Fatalf("Delete(key-%d) = false", i)
		}
	}
	for i := range n {
		v, ok := c.Get(fmt.Sprintf("key-%d", i))
		if wantOK := i%3 != 0; ok != wantOK || (ok && string(v) != fmt.Sprint(i)) {
			t.Fatalf("Get(key-%d) = %q, %v; want present=%v", i, v, ok, wantOK)
		}
	}
	if got, want := c.Len(), n-(n+2)/3; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
}

func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	v := []byte("v")
	c := newLRU(3 * Cost("a", v))
	for _, k := range []string{"a", "b", "c"} {
		_ = c.Set(k, v)
	}
	c.Get("a") // b is now the least recently used
	_ = c.Set("d", v)
	if got, want := c.keys(), []string{"d", "a", "c"}; !slices.Equal(got, want) {
		t.Fatalf("keys = %q, want %q", got, want)
	}
}
