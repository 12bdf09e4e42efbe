package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// The throughput workload: 90 % Get / 10 % Set of 8-byte values under
// 11-byte keys "img:%07d", Zipf popularity over 2^20 keys, two goroutines
// on two cores (go test -cpu 2). Capacities are counted in items and given
// to every contender in bytes: items × cache.Cost of one item.
const (
	tpKeys     = 1 << 20
	tpTraceLen = 1 << 22 // a power of two: workers index it by mask
	tpWorkers  = 2
	tpValueLen = 8
	zipfS      = 1.01 // a typical web workload's skew, as in picpool simulate
)

type tpWorkload struct {
	keys  []string
	trace []uint32 // key indexes; key 0 is the most popular
	value []byte
}

func newTPWorkload(seed uint64) *tpWorkload {
	w := &tpWorkload{keys: make([]string, tpKeys), trace: make([]uint32, tpTraceLen), value: make([]byte, tpValueLen)}
	for i := range w.keys {
		w.keys[i] = fmt.Sprintf("img:%07d", i)
	}
	z := rand.NewZipf(rand.New(rand.NewPCG(seed, 1)), zipfS, 1, tpKeys-1)
	for i := range w.trace {
		w.trace[i] = uint32(z.Uint64())
	}
	return w
}

// tpSample is one measurement of one contender at one capacity.
type tpSample struct {
	mops  float64 // million operations a second, wall clock
	cpuNs float64 // process CPU time (user+system) per operation: GC and background goroutines included
	hit   float64 // share of the Gets that hit
}

// counts is what one worker did.
type counts struct{ ops, gets, hits int64 }

// measureThroughput builds c for the given number of items, fills it by
// Setting the first half of the trace, and runs the workers over the trace
// for d.
func measureThroughput(ctx context.Context, c contender, w *tpWorkload, items int, d time.Duration) (tpSample, error) {
	s, err := c.build(sizing{capacity: int64(items) * cache.Cost(w.keys[0], w.value), items: items})
	if err != nil {
		return tpSample{}, err
	}
	defer release(s)
	for _, id := range w.trace[:len(w.trace)/2] {
		_ = s.Set(w.keys[id], w.value)
	}
	runtime.GC() // the previous contender's garbage is not this one's cost

	var stop atomic.Bool
	var wg sync.WaitGroup
	done := make([]counts, tpWorkers)
	cpu0, start := cpuTime(), time.Now()
	for n := range tpWorkers {
		wg.Go(func() { done[n] = hammer(s, w, n*len(w.trace)/tpWorkers+12345, &stop) })
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	stop.Store(true)
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	if err := ctx.Err(); err != nil {
		return tpSample{}, err
	}
	var sum counts
	for _, c := range done {
		sum.ops, sum.gets, sum.hits = sum.ops+c.ops, sum.gets+c.gets, sum.hits+c.hits
	}
	return tpSample{
		mops:  float64(sum.ops) / elapsed.Seconds() / 1e6,
		cpuNs: float64(cpu.Nanoseconds()) / float64(sum.ops),
		hit:   float64(sum.hits) / float64(max(sum.gets, 1)),
	}, nil
}

// hammer runs the workload from position i of the trace until stop: every
// tenth operation a Set, the others Gets.
func hammer(s sim.Store, w *tpWorkload, i int, stop *atomic.Bool) counts {
	var c counts
	mask := len(w.trace) - 1
	for ; i&1023 != 0 || !stop.Load(); i++ {
		k := w.keys[w.trace[i&mask]]
		if i%10 == 0 {
			_ = s.Set(k, w.value)
		} else {
			c.gets++
			if _, ok := s.Get(k); ok {
				c.hits++
			}
		}
		c.ops++
	}
	return c
}

// cpuTime is the CPU time this process has used, in every thread.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// tpSummary is the median of a contender's rounds at one capacity, with
// the range of its Mops/s.
type tpSummary struct {
	mops, mopsMin, mopsMax, cpuNs, hit float64
}

func summarize(samples []tpSample) tpSummary {
	pick := func(f func(tpSample) float64) []float64 {
		v := make([]float64, len(samples))
		for i, s := range samples {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v
	}
	mops := pick(func(s tpSample) float64 { return s.mops })
	return tpSummary{
		mops:    median(mops),
		mopsMin: mops[0],
		mopsMax: mops[len(mops)-1],
		cpuNs:   median(pick(func(s tpSample) float64 { return s.cpuNs })),
		hit:     median(pick(func(s tpSample) float64 { return s.hit })),
	}
}

// median of sorted values; the mean of the middle two for an even count.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
