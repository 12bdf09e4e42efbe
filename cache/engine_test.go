package cache

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The conformance suite: every policy in Policies() passes every test in
// this file. A new engine gets these for free by being registered.

// forEachPolicy runs f as a subtest per policy, with a constructor for
// engines of that policy.
func forEachPolicy(t *testing.T, f func(t *testing.T, newEngine func(capacity int64) Engine)) {
	t.Helper()
	for _, p := range Policies() {
		t.Run(p, func(t *testing.T) {
			f(t, func(capacity int64) Engine { return mustNew(t, p, capacity) })
		})
	}
}

func mustNew(tb testing.TB, policy string, capacity int64) Engine {
	tb.Helper()
	e, err := NewWithOptions(policy, capacity, Options{Rand: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		tb.Fatalf("New(%q, %d): %v", policy, capacity, err)
	}
	return e
}

// checkAccounting asserts the byte invariants against the items the test
// knows to be present.
func checkAccounting(t *testing.T, e Engine, present map[string][]byte) {
	t.Helper()
	var want int64
	for k, v := range present {
		want += Cost(k, v)
	}
	if got := e.Len(); got != len(present) {
		t.Errorf("Len() = %d, want %d", got, len(present))
	}
	if got := e.Size(); got != want {
		t.Errorf("Size() = %d, want %d", got, want)
	}
	if e.Size() > e.Capacity() {
		t.Errorf("Size() %d > Capacity() %d", e.Size(), e.Capacity())
	}
}

func TestConformanceBasics(t *testing.T) {
	forEachPolicy(t, func(t *testing.T, newEngine func(int64) Engine) {
		e := newEngine(1 << 20)
		if v, ok := e.Get("a"); ok || v != nil {
			t.Fatalf("Get on empty engine = %q, %v; want nil, false", v, ok)
		}
		if err := e.Set("a", []byte("apple")); err != nil {
			t.Fatalf("Set: %v", err)
		}
		if err := e.Set("b", []byte("banana")); err != nil {
			t.Fatalf("Set: %v", err)
		}
		if got, ok := e.Get("a"); !ok || string(got) != "apple" {
			t.Fatalf("Get(a) = %q, %v; want apple, true", got, ok)
		}
		checkAccounting(t, e, map[string][]byte{"a": []byte("apple"), "b": []byte("banana")})

		// A re-Set replaces the value and recharges its cost.
		if err := e.Set("a", []byte("apricot jam")); err != nil {
			t.Fatalf("Set: %v", err)
		}
		if got, _ := e.Get("a"); string(got) != "apricot jam" {
			t.Fatalf("Get(a) after replace = %q, want apricot jam", got)
		}
		checkAccounting(t, e, map[string][]byte{"a": []byte("apricot jam"), "b": []byte("banana")})

		if !e.Delete("a") {
			t.Fatal("Delete(a) = false, want true")
		}
		if e.Delete("a") {
			t.Fatal("second Delete(a) = true, want false")
		}
		if _, ok := e.Get("a"); ok {
			t.Fatal("Get(a) hit after Delete")
		}
		checkAccounting(t, e, map[string][]byte{"b": []byte("banana")})

		e.Clear()
		checkAccounting(t, e, nil)
		if _, ok := e.Get("b"); ok {
			t.Fatal("Get(b) hit after Clear")
		}
		// The engine is usable after Clear.
		if err := e.Set("c", []byte("cherry")); err != nil {
			t.Fatalf("Set after Clear: %v", err)
		}
		checkAccounting(t, e, map[string][]byte{"c": []byte("cherry")})
	})
}

func TestConformanceEmptyKeyAndValue(t *testing.T) {
	forEachPolicy(t, func(t *testing.T, newEngine func(int64) Engine) {
		e := newEngine(1 << 10)
		if err := e.Set("", nil); err != nil {
			t.Fatalf("Set(\"\", nil): %v", err)
		}
		if v, ok := e.Get(""); !ok || len(v) != 0 {
			t.Fatalf("Get(\"\") = %q, %v; want empty, true", v, ok)
		}
		checkAccounting(t, e, map[string][]byte{"": nil})
	})
}

func TestConformanceTooLarge(t *testing.T) {
	forEachPolicy(t, func(t *testing.T, newEngine func(int64) Engine) {
		const capacity = 1000
		e := newEngine(capacity)
		exact := make([]byte, capacity-ItemOverhead-1) // key "k": cost == capacity
		if err := e.Set("k", exact); err != nil {
			t.Fatalf("Set of an item costing exactly the capacity: %v", err)
		}
		checkAccounting(t, e, map[string][]byte{"k": exact})

		err := e.Set("k", make([]byte, len(exact)+1))
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Set one byte over capacity: err = %v, want ErrTooLarge", err)
		}
		// The old value is gone: a cache must not serve what the caller
		// tried to replace.
		if _, ok := e.Get("k"); ok {
			t.Fatal("old value still served after a too-large replacement")
		}
		checkAccounting(t, e, nil)

		zero := newEngine(0)
		if err := zero.Set("", nil); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Set into a zero-capacity engine: err = %v, want ErrTooLarge", err)
		}
		checkAccounting(t, zero, nil)
	})
}

func TestConformanceEvictsToFit(t *testing.T) {
	forEachPolicy(t, func(t *testing.T, newEngine func(int64) Engine) {
		value := make([]byte, 100)
		itemCost := Cost("key:000", value)
		e := newEngine(10 * itemCost)
		for i := range 100 {
			if err := e.Set(fmt.Sprintf("key:%03d", i), value); err != nil {
				t.Fatalf("Set #%d: %v", i, err)
			}
			if e.Size() > e.Capacity() {
				t.Fatalf("after Set #%d: Size() %d > Capacity() %d", i, e.Size(), e.Capacity())
			}
		}
		if got := e.Len(); got != 10 {
			t.Fatalf("Len() = %d after overfilling 10 slots with equal items, want 10", got)
		}
		if got, want := e.Size(), 10*itemCost; got != want {
			t.Fatalf("Size() = %d, want %d", got, want)
		}
		// The item just set is always resident: it is never its own victim.
		if _, ok := e.Get("key:099"); !ok {
			t.Fatal("the last item set was evicted")
		}
	})
}

func TestConformanceSetCapacity(t *testing.T) {
	forEachPolicy(t, func(t *testing.T, newEngine func(int64) Engine) {
		value := make([]byte, 100)
		itemCost := Cost("key:000", value)
		e := newEngine(10 * itemCost)
		for i := range 10 {
			_ = e.Set(fmt.Sprintf("key:%03d", i), value)
		}
		e.SetCapacity(4*itemCost + itemCost/2)
		if got := e.Len(); got != 4 {
			t.Fatalf("Len() after shrinking to 4.5 items = %d, want 4", got)
		}
		if got, want := e.Capacity(), 4*itemCost+itemCost/2; got != want {
			t.Fatalf("Capacity() = %d, want %d", got, want)
		}
		if e.Size() > e.Capacity() {
			t.Fatalf("Size() %d > Capacity() %d after shrink", e.Size(), e.Capacity())
		}
		e.SetCapacity(20 * itemCost)
		for i := 10; i < 26; i++ {
			_ = e.Set(fmt.Sprintf("key:%03d", i), value)
		}
		if got := e.Len(); got != 20 {
			t.Fatalf("Len() after growing to 20 items and adding 16 = %d, want 20", got)
		}
		e.SetCapacity(-5)
		if e.Capacity() != 0 || e.Len() != 0 || e.Size() != 0 {
			t.Fatalf("after SetCapacity(-5): Capacity %d Len %d Size %d, want 0 0 0", e.Capacity(), e.Len(), e.Size())
		}
	})
}

func TestConformanceKeepsValueSlice(t *testing.T) {
	// Engines keep the caller's slice: a node serves it without copying.
	forEachPolicy(t, func(t *testing.T, newEngine func(int64) Engine) {
		e := newEngine(1 << 20)
		v := []byte("0123456789")
		_ = e.Set("k", v)
		got, _ := e.Get("k")
		if &got[0] != &v[0] {
			t.Fatal("Get returned a copy; engines must return the stored slice")
		}
	})
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name     string
		policy   string
		capacity int64
		want     error
		msg      string
	}{
		{"unknown policy", "mru", 10, ErrUnknownPolicy, `cache: unknown replacement policy "mru" (known: lru, random`},
		{"empty policy", "", 10, ErrUnknownPolicy, `cache: unknown replacement policy ""`},
		{"negative capacity", "lru", -1, ErrNegativeCapacity, "cache: negative capacity: -1 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.policy, tt.capacity)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.msg) {
				t.Fatalf("message = %q, want prefix %q", err, tt.msg)
			}
			if e != nil {
				t.Fatalf("engine = %v, want nil with an error", e)
			}
		})
	}
}

func TestPolicyNames(t *testing.T) {
	tests := []struct {
		in, canonical, label string
		ok                   bool
	}{
		{"lru", "lru", "Least recently used", true},
		{"LRU", "lru", "Least recently used", true},
		{"random", "random", "Random replacement", true},
		{"RR", "random", "Random replacement", true},
		{" rr ", "random", "Random replacement", true},
		{"SIEVE", "sieve", "SIEVE (FIFO with lazy promotion)", true},
		{"tinylfu", "tinylfu", "W-TinyLFU (frequency admission)", true},
		{"W-TinyLFU", "tinylfu", "W-TinyLFU (frequency admission)", true},
		{"sizelfu", "sizelfu", "Size-aware TinyLFU (frequency per byte)", true},
		{"lfu?", "", "", false},
	}
	for _, tt := range tests {
		got, ok := CanonicalPolicy(tt.in)
		if got != tt.canonical || ok != tt.ok {
			t.Errorf("CanonicalPolicy(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.canonical, tt.ok)
		}
		if got := PolicyLabel(tt.in); got != tt.label {
			t.Errorf("PolicyLabel(%q) = %q, want %q", tt.in, got, tt.label)
		}
	}
	for _, p := range Policies() {
		if PolicyLabel(p) == "" {
			t.Errorf("policy %q has no label for people", p)
		}
		if _, err := New(p, 10); err != nil {
			t.Errorf("New(%q): %v", p, err)
		}
	}
}

// TestConformanceConcurrent hammers one engine from many goroutines; run
// with -race. Every hit must return the exact value set for that key, and
// the byte bound must hold throughout. One goroutine also resizes the
// engine; the others then check the bound only at rest, since Size and
// Capacity are two calls that a resize can fall between.
func TestConformanceConcurrent(t *testing.T) {
	forEachPolicy(t, func(t *testing.T, newEngine func(int64) Engine) {
		const keys = 200
		values := make([][]byte, keys)
		for i := range values {
			values[i] = bytes.Repeat([]byte{byte(i)}, 10+i%50)
		}
		for _, resizing := range []bool{false, true} {
			e := newEngine(50 * Cost("k:000", values[0]))
			var wg sync.WaitGroup
			errs := make(chan string, 8)
			for g := range 8 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(g), 7))
					for range 5000 {
						i := r.IntN(keys)
						k := fmt.Sprintf("k:%03d", i)
						switch op := r.IntN(20); {
						case op < 12:
							if v, ok := e.Get(k); ok && !bytes.Equal(v, values[i]) {
								errs <- fmt.Sprintf("Get(%s) returned another key's value", k)
								return
							}
						case op < 18:
							_ = e.Set(k, values[i])
						case op < 19:
							e.Delete(k)
						case g == 1: // Clear races the others' lock-free hashing
							e.Clear()
						case resizing && g == 0:
							e.SetCapacity(int64(20+r.IntN(60)) * Cost("k:000", values[0]))
						}
						if !resizing && e.Size() > e.Capacity() {
							errs <- fmt.Sprintf("Size() %d > Capacity() %d", e.Size(), e.Capacity())
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for msg := range errs {
				t.Fatal(msg)
			}
			if e.Size() > e.Capacity() {
				t.Fatalf("at rest: Size() %d > Capacity() %d", e.Size(), e.Capacity())
			}
		}
	})
}

// TestConformanceRange: every engine lists exactly what it holds, and fn
// may call back into the engine.
func TestConformanceRange(t *testing.T) {
	forEachPolicy(t, func(t *testing.T, newEngine func(int64) Engine) {
		e := newEngine(1 << 20)
		r, ok := e.(Ranger)
		if !ok {
			t.Fatalf("%T does not implement Ranger", e)
		}
		want := map[string]string{}
		for i := range 50 {
			k, v := fmt.Sprintf("k%02d", i), fmt.Sprintf("value %d", i)
			_ = e.Set(k, []byte(v))
			want[k] = v
		}
		e.Delete("k07")
		delete(want, "k07")
		got := map[string]string{}
		r.Range(func(k string, v []byte) bool {
			got[k] = string(v)
			e.Get(k) // calling the engine from fn must not deadlock
			return true
		})
		if len(got) != len(want) {
			t.Fatalf("Range visited %d items, want %d", len(got), len(want))
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("Range gave %q = %q, want %q", k, got[k], v)
			}
		}
		n := 0
		r.Range(func(string, []byte) bool { n++; return n < 3 })
		if n != 3 {
			t.Fatalf("Range went on after fn returned false: %d calls, want 3", n)
		}
	})
}

func TestLRURangeIsMostRecentFirst(t *testing.T) {
	c := newLRU(1 << 20)
	for _, k := range []string{"a", "b", "c"} {
		_ = c.Set(k, []byte(k))
	}
	c.Get("a")
	var got []string
	c.Range(func(k string, _ []byte) bool { got = append(got, k); return true })
	if want := []string{"a", "c", "b"}; !slices.Equal(got, want) {
		t.Fatalf("Range order %q, want %q", got, want)
	}
}
