package cache

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
)

// Benchmarks of the engines alone. go tool task bench:engines compares them
// with peer libraries (bench/, a module of its own); these are for working
// on an engine without leaving the package:
// go test -run '^$' -bench Engine -cpu 2 ./cache

var benchKeys = func() []string {
	keys := make([]string, 1<<20)
	for i := range keys {
		keys[i] = fmt.Sprintf("img:%07d", i)
	}
	return keys
}()

func zipfTrace(seed uint64, n, length int) []uint32 {
	z := rand.NewZipf(rand.New(rand.NewPCG(seed, 1)), 1.01, 1, uint64(n-1))
	t := make([]uint32, length)
	for i := range t {
		t[i] = uint32(z.Uint64())
	}
	return t
}

// BenchmarkEngineThroughput: 90 % Get / 10 % Set of 8-byte values, Zipf
// 1.01 over 2^20 keys, 100k items of capacity, in parallel. Reports the Get
// hit ratio.
func BenchmarkEngineThroughput(b *testing.B) {
	const items, traceLen = 100_000, 1 << 22
	trace := zipfTrace(42, len(benchKeys), traceLen)
	value := make([]byte, 8)
	for _, p := range Policies() {
		b.Run(p, func(b *testing.B) {
			e := mustNew(b, p, items*Cost(benchKeys[0], value))
			for _, id := range trace[:traceLen/2] {
				_ = e.Set(benchKeys[id], value)
			}
			var hits, gets atomic.Int64
			var start atomic.Uint64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(start.Add(traceLen/8 + 12345))
				var h, g int64
				for pb.Next() {
					k := benchKeys[trace[i&(traceLen-1)]]
					if i%10 == 0 {
						_ = e.Set(k, value)
					} else {
						g++
						if _, ok := e.Get(k); ok {
							h++
						}
					}
					i++
				}
				hits.Add(h)
				gets.Add(g)
			})
			b.ReportMetric(100*float64(hits.Load())/float64(max(gets.Load(), 1)), "hit%")
		})
	}
}

// BenchmarkEngineHitRatio replays a byte-bounded image workload: objects of
// 10 KB to 1 MB (log-uniform), Zipf 1.01 popularity, a miss Sets the
// object. Reports object and byte hit ratios over the last 80 % of the
// requests.
func BenchmarkEngineHitRatio(b *testing.B) {
	const objects, requests = 50_000, 300_000
	r := rand.New(rand.NewPCG(1, 99))
	sizes := make([]int, objects)
	lo, hi := math.Log(10_000), math.Log(1_000_000)
	for i := range sizes {
		sizes[i] = int(math.Exp(lo + r.Float64()*(hi-lo)))
	}
	perm := r.Perm(objects)
	trace := zipfTrace(2, objects, requests)
	shared := make([]byte, 1_000_000)
	for _, p := range Policies() {
		b.Run(p, func(b *testing.B) {
			var hits, reqs, hitBytes, reqBytes int64
			for b.Loop() {
				e := mustNew(b, p, 64<<20)
				hits, reqs, hitBytes, reqBytes = 0, 0, 0, 0
				for n, rank := range trace {
					id := perm[rank]
					k := benchKeys[id]
					_, ok := e.Get(k)
					if !ok {
						_ = e.Set(k, shared[:sizes[id]])
					}
					if n < requests/5 {
						continue // warm-up
					}
					reqs++
					reqBytes += int64(sizes[id])
					if ok {
						hits++
						hitBytes += int64(sizes[id])
					}
				}
			}
			b.ReportMetric(100*float64(hits)/float64(reqs), "hit%")
			b.ReportMetric(100*float64(hitBytes)/float64(reqBytes), "bytehit%")
		})
	}
}

// BenchmarkEngineMemory fills an engine with items whose keys and values
// come from one preallocated buffer, and reports the heap the engine itself
// uses per item (live heap after GC, minus nothing it was given): it must
// stay at or under ItemOverhead plus a small constant share.
func BenchmarkEngineMemory(b *testing.B) {
	const items = 200_000
	keys := benchKeys[:items]
	value := make([]byte, 100)
	for _, p := range Policies() {
		b.Run(p, func(b *testing.B) {
			var perItem float64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				e := mustNew(b, p, 1<<40)
				for _, k := range keys {
					_ = e.Set(k, value)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				perItem = float64(after.HeapAlloc-before.HeapAlloc) / items
				runtime.KeepAlive(e)
			}
			b.ReportMetric(perItem, "B/item")
			b.ReportMetric(ItemOverhead, "charged-B/item")
		})
	}
}
