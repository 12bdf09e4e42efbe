package memproto

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSizeClass(t *testing.T) {
	for _, n := range []int{1, 15, 16, 17, 100, poolMinBytes, 100<<10 + suffixBytes, 1<<20 - 1, 1 << 20, 64<<20 + 3} {
		c := sizeClass(n)
		if c < n || float64(c-n) > float64(n)/16 || sizeClass(c) != c {
			t.Errorf("sizeClass(%d) = %d: below n, more than 1/16 over, or not a class itself", n, c)
		}
	}
}

func TestValuePoolBound(t *testing.T) {
	p := newValuePool(int64(3 * sizeClass(poolMinBytes)))
	c := sizeClass(poolMinBytes)
	for range 5 {
		p.put(make([]byte, 0, c))
	}
	p.put(make([]byte, 0, c+1))            // not a class size: not from Alloc
	p.put(make([]byte, 0, poolMinBytes/2)) // too small to pool
	if got := p.size(); got != int64(3*c) {
		t.Fatalf("pool holds %d bytes, want its bound %d", got, 3*c)
	}
	if b := p.get(poolMinBytes); b == nil || len(b) != poolMinBytes || cap(b) != c {
		t.Fatalf("get(%d) = len %d cap %d", poolMinBytes, len(b), cap(b))
	}
	if b := p.get(1 << 20); b != nil {
		t.Fatal("get of an empty class returned a buffer")
	}
}

// storeValue stores a fresh value of n bytes of c under key.
func storeValue(t testing.TB, b *EngineBackend, key string, n int, c byte) {
	v, err := b.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range v.B {
		v.B[i] = c
	}
	if err := b.Update(key, func(State) Change { return Change{Op: Store, Item: Item{Value: v}} }); err != nil {
		t.Fatal(err)
	}
}

// TestReuseWaitsForReaders checks a replaced value's buffer is reused
// only after the GET holding it is done, and then is.
func TestReuseWaitsForReaders(t *testing.T) {
	b, err := NewEngineBackend("lru", 64<<20, EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100 << 10
	storeValue(t, b, "k", n, 'a')
	held, ok := b.Get("k", false)
	if !ok {
		t.Fatal("miss")
	}
	storeValue(t, b, "k", n, 'b') // retires the held buffer
	v, _ := b.Alloc(n)
	if &v.B[0] == &held.Value.B[0] {
		t.Fatal("Alloc handed out a buffer a GET still holds")
	}
	if bytes.Count(held.Value.B, []byte{'a'}) != n {
		t.Fatal("the held value changed")
	}
	held.Value.Release()
	v2, _ := b.Alloc(n)
	if &v2.B[0] != &held.Value.B[0] {
		t.Error("the released buffer was not reused")
	}
	// A buffer nobody holds is reused at once.
	storeValue(t, b, "j", n, 'c')
	it, _ := b.Get("j", false)
	first := &it.Value.B[0]
	it.Value.Release()
	if err := b.Update("j", func(State) Change { return Change{Op: Delete} }); err != nil {
		t.Fatal(err)
	}
	if v3, _ := b.Alloc(n); &v3.B[0] != first {
		t.Error("a deleted value's buffer was not reused")
	}
}

// TestReuseUnderLoad overwrites keys with values of one repeated byte
// while readers hold values for a while and check each is still one byte
// repeated: a buffer reused under a reader would show two.
func TestReuseUnderLoad(t *testing.T) {
	b, err := NewEngineBackend("sizelfu", 8<<20, EngineOptions{}) // small: evictions too
	if err != nil {
		t.Fatal(err)
	}
	const n, keys = 40 << 10, 16
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var heldChanged, rangedChanged, reads atomic.Int64
	uniform := func(v []byte) bool { return bytes.Count(v, v[:1]) == len(v) }
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				storeValue(t, b, fmt.Sprint("k", i%keys), n, byte('a'+(i+w)%26))
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				it, ok := b.Get(fmt.Sprint("k", i%keys), false)
				if !ok {
					continue
				}
				reads.Add(1)
				time.Sleep(50 * time.Microsecond) // as if writing it out
				if !uniform(it.Value.B) {
					heldChanged.Add(1)
				}
				it.Value.Release()
			}
		})
	}
	wg.Go(func() {
		for ctx.Err() == nil { // a Range reads values without holding them
			b.Range(func(_ string, it Item) bool {
				time.Sleep(50 * time.Microsecond)
				if !uniform(it.Value.B) {
					rangedChanged.Add(1)
				}
				return ctx.Err() == nil
			})
		}
	})
	wg.Wait()
	if n := heldChanged.Load(); n > 0 {
		t.Errorf("%d of %d values changed while a reader held them", n, reads.Load())
	}
	if n := rangedChanged.Load(); n > 0 {
		t.Errorf("%d values changed while Range read them", n)
	}
	if reads.Load() < 100 {
		t.Errorf("only %d reads in 2 s: the test proved little", reads.Load())
	}
}
