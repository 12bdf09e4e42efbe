package cache

import (
	"fmt"
	"slices"
	"testing"
)

// TestTinyLFUResistsScan: popular items survive a scan of many items seen
// once, where LRU loses them all.
func TestTinyLFUResistsScan(t *testing.T) {
	value := make([]byte, 100)
	capacity := 100 * Cost("hot:00", value)
	for _, p := range []string{"tinylfu", "sizelfu", "lru"} {
		t.Run(p, func(t *testing.T) {
			e := mustNew(t, p, capacity)
			for range 5 {
				for i := range 50 {
					k := fmt.Sprintf("hot:%02d", i)
					if _, ok := e.Get(k); !ok {
						_ = e.Set(k, value)
					}
				}
			}
			for i := range 1000 {
				k := fmt.Sprintf("scan:%04d", i)
				if _, ok := e.Get(k); !ok {
					_ = e.Set(k, value)
				}
			}
			kept := 0
			for i := range 50 {
				if _, ok := e.Get(fmt.Sprintf("hot:%02d", i)); ok {
					kept++
				}
			}
			if p == "lru" {
				if kept != 0 {
					t.Fatalf("lru kept %d hot items through the scan; the test's scan is too short to tell", kept)
				}
				return
			}
			if kept < 45 {
				t.Fatalf("%d of 50 hot items survived a scan of 1000 one-hit items, want at least 45", kept)
			}
		})
	}
}

// TestSizeLFUKeepsSmallHotItems: one big image, requested a little more
// often than each small one, is not admitted by sizelfu (it would have to
// beat all the small ones it displaces together), so the small ones get
// their room back; tinylfu, which counts items and not bytes, admits it
// and the small ones stay out.
func TestSizeLFUKeepsSmallHotItems(t *testing.T) {
	small, big := make([]byte, 1000), make([]byte, 40_000)
	capacity := 50*Cost("small:00", small) + 2000
	for _, tt := range []struct {
		policy  string
		wantBig bool
	}{{"sizelfu", false}, {"tinylfu", true}} {
		t.Run(tt.policy, func(t *testing.T) {
			e := mustNew(t, tt.policy, capacity)
			request := func(k string, v []byte) {
				if _, ok := e.Get(k); !ok {
					_ = e.Set(k, v)
				}
			}
			smalls := func() {
				for i := range 50 {
					request(fmt.Sprintf("small:%02d", i), small)
				}
			}
			for range 3 {
				smalls()
			}
			for range 5 {
				request("big", big)
				request("filler", small) // pushes big out of the window, to be judged
			}
			smalls()
			smalls()
			_, gotBig := e.Get("big")
			kept := 0
			for i := range 50 {
				if _, ok := e.Get(fmt.Sprintf("small:%02d", i)); ok {
					kept++
				}
			}
			if gotBig != tt.wantBig {
				t.Fatalf("big image held: %v, want %v (%d of 50 small ones held)", gotBig, tt.wantBig, kept)
			}
			if wantKept := !tt.wantBig; (kept >= 45) != wantKept {
				t.Fatalf("%d of 50 small images held; want at least 45: %v", kept, wantKept)
			}
		})
	}
}

// TestTinyLFUAppliesBufferedHits: a hit is recorded by Get and applied
// by the next Set, which moves the item to the front of its queue.
func TestTinyLFUAppliesBufferedHits(t *testing.T) {
	c := newTinyLFU(1<<20, false) // all four fit in the window (1 %)
	for _, k := range []string{"a", "b", "c"} {
		_ = c.Set(k, []byte(k))
	}
	c.Get("a")
	_ = c.Set("d", []byte("d"))
	var got []string
	c.Range(func(k string, _ []byte) bool { got = append(got, k); return true })
	if want := []string{"d", "a", "c", "b"}; !slices.Equal(got, want) {
		t.Fatalf("Range order %q, want %q", got, want)
	}
}
