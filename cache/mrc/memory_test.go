package mrc

import (
	"runtime"
	"testing"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// heapGrowth returns how much the live heap grew across build, after
// collecting garbage on either side.
func heapGrowth(build func() any) (int64, any) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc), v
}

// TestMemoryMatchesHeap checks Memory, the figure the bound is enforced
// on, against the heap a Recorder really holds after a Zipf trace, for
// every policy and three sizes of node, within 15 %.
func TestMemoryMatchesHeap(t *testing.T) {
	trace, err := sim.ZipfTrace{Objects: 20000, Requests: 40_000, S: 1.01, MinSize: 10_000, MaxSize: 1_000_000, Seed: 4}.Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, policy := range cache.Policies() {
		for _, capacity := range []int64{8 << 20, 64 << 20, 1 << 30} {
			grew, v := heapGrowth(func() any {
				r, err := New(Options{Policy: policy, Capacity: capacity, Seed: 1, Now: fixedClock})
				if err != nil {
					t.Fatal(err)
				}
				for _, q := range trace {
					r.Record(q.Key, int64(q.Size))
				}
				return r
			})
			r := v.(*Recorder)
			got := r.Memory()
			t.Logf("%s %d MiB: Memory %d, heap %d, rate %v", policy, capacity>>20, got, grew, r.Rate())
			if float64(got) < 0.85*float64(grew) || float64(got) > 1.15*float64(grew) {
				t.Errorf("%s, %d MiB: Memory() = %d bytes, the heap grew %d", policy, capacity>>20, got, grew)
			}
			runtime.KeepAlive(r)
		}
	}
}
