package mrc

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// BenchmarkRecord is the per-request cost of a node's curve: Record on a
// Zipf trace of 20,000 images of 10 KB–1 MB, for a 64 MiB node of each
// policy, from parallel goroutines as a node's handlers call it, after
// half the trace has settled the sampling rate. It reports the rate and
// the memory held (bytes). Compare ns/op with a node's GET in bench:node.
//
//	go test -run '^$' -bench Record -cpu 1,2 ./cache/mrc
func BenchmarkRecord(b *testing.B) {
	trace, err := sim.ZipfTrace{Objects: 20000, Requests: 1 << 20, S: 1.01, MinSize: 10_000, MaxSize: 1_000_000, Seed: 1}.Generate()
	if err != nil {
		b.Fatal(err)
	}
	for _, policy := range cache.Policies() {
		b.Run(policy, func(b *testing.B) {
			r, err := New(Options{Policy: policy, Capacity: 64 << 20, Seed: 7})
			if err != nil {
				b.Fatal(err)
			}
			for _, q := range trace[:len(trace)/2] {
				r.Record(q.Key, int64(q.Size))
			}
			var next atomic.Uint64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := next.Add(1 << 16)
				for pb.Next() {
					q := trace[i%uint64(len(trace))]
					r.Record(q.Key, int64(q.Size))
					i++
				}
			})
			b.StopTimer()
			b.ReportMetric(r.Rate(), "rate")
			b.ReportMetric(float64(r.Memory()), "bytes")
		})
	}
}

// BenchmarkRecordNotSampled is the cost of Record for a key the sample
// leaves out: a hash, an atomic add and a comparison.
func BenchmarkRecordNotSampled(b *testing.B) {
	r, err := New(Options{Policy: "lru", Capacity: 64 << 20, Seed: 7})
	if err != nil {
		b.Fatal(err)
	}
	r.threshold.Store(minThreshold)
	var keys []string
	for i := 0; len(keys) < 1024; i++ {
		if k := fmt.Sprintf("images/2026/photo-%06d.jpg", i); !sampled(hashKey(r.seed, k), minThreshold) {
			keys = append(keys, k)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.Record(keys[i&1023], 100_000)
			i++
		}
	})
}

// BenchmarkRecordFewKeys is Record's cost on the step load, 40 images of
// about 100 KB read uniformly on a node of 1 MiB: few enough keys that
// every one is sampled, so every request updates the model.
func BenchmarkRecordFewKeys(b *testing.B) {
	keys := make([]string, 40)
	for i := range keys {
		keys[i] = fmt.Sprintf("images/step-%02d.jpg", i)
	}
	for _, policy := range cache.Policies() {
		b.Run(policy, func(b *testing.B) {
			r, err := New(Options{Policy: policy, Capacity: 1 << 20, Seed: 7})
			if err != nil {
				b.Fatal(err)
			}
			var next atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				x := next.Add(1) * 0x9e3779b97f4a7c15
				for pb.Next() {
					x ^= x << 13
					x ^= x >> 7
					x ^= x << 17
					r.Record(keys[x%40], 100_000)
				}
			})
			b.StopTimer()
			b.ReportMetric(r.Rate(), "rate")
			b.ReportMetric(float64(r.Memory()), "bytes")
		})
	}
}
