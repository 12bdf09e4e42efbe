package mrc

import (
	"fmt"
	"math"
	"testing"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/partition"
	"github.com/picpool/picpool/cache/sim"
)

// members returns the addresses of a pool of n nodes.
func members(n int) []string {
	m := make([]string, n)
	for i := range m {
		m[i] = fmt.Sprintf("10.0.0.%d:5100", i+1)
	}
	return m
}

// split routes a trace to the nodes of a pool of n, as the pool's default
// partitioner does.
func split(trace []sim.Request, n int) [][]sim.Request {
	pt, ms := partition.Rendezvous{}, members(n)
	owner := make([]int, pt.Partitions())
	for p := range owner {
		owner[p] = pt.Owner(p, ms)
	}
	parts := make([][]sim.Request, n)
	for _, r := range trace {
		i := owner[pt.Partition(r.Key)]
		parts[i] = append(parts[i], r)
	}
	return parts
}

// poolMissRatio is the exact miss ratio of a pool of n nodes of capacity
// bytes each: the trace split by the partitioner, each node's part
// replayed by sim.Simulate.
func poolMissRatio(t testing.TB, policy string, n int, capacity int64, trace []sim.Request) float64 {
	t.Helper()
	var hits, reqs int64
	for _, part := range split(trace, n) {
		if len(part) == 0 {
			continue
		}
		res, err := sim.Simulate([]string{policy}, capacity, part, 0)
		if err != nil {
			t.Fatal(err)
		}
		hits, reqs = hits+res[0].Hits, reqs+res[0].Requests
	}
	return 1 - float64(hits)/float64(reqs)
}

// predictFrom records the trace on a pool of n nodes, each its own
// Recorder, and returns the pool's curve.
func predictFrom(t testing.TB, policy string, n int, capacity int64, trace []sim.Request) Curve {
	t.Helper()
	var curves []Curve
	for i, part := range split(trace, n) {
		r, err := New(Options{Policy: policy, Capacity: capacity, Seed: uint64(11 + i), Now: fixedClock})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range part {
			r.Record(q.Key, int64(q.Size))
		}
		curves = append(curves, r.Curve())
	}
	return Combine(curves...)
}

// TestAccuracy is the accuracy target: on a Zipf trace of images
// of 10 KB–1 MB, the pool's predicted miss ratio at 1, 2, 4 and 8 nodes of
// 64 MiB, from the curves of a pool of 1 and of 2 nodes, against the exact
// replay of each size, has a mean absolute error of at most 0.03 for
// every policy.
func TestAccuracy(t *testing.T) {
	trace, err := sim.ZipfTrace{Objects: 20_000, Requests: 150_000, S: 1.01, MinSize: 10_000, MaxSize: 1_000_000, Seed: 1}.Generate()
	if err != nil {
		t.Fatal(err)
	}
	const capacity = 64 << 20
	sizes := []int{1, 2, 4, 8}
	for _, policy := range cache.Policies() {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			exact := make([]float64, len(sizes))
			for i, n := range sizes {
				exact[i] = poolMissRatio(t, policy, n, capacity, trace)
			}
			for _, from := range []int{1, 2} {
				curve := predictFrom(t, policy, from, capacity, trace)
				var sum float64
				line := ""
				for i, n := range sizes {
					pred := curve.PoolMissRatio(n, capacity)
					sum += math.Abs(pred - exact[i])
					line += fmt.Sprintf(" %d nodes %.3f (exact %.3f);", n, pred, exact[i])
				}
				mae := sum / float64(len(sizes))
				t.Logf("%s from %d node(s): MAE %.4f:%s", policy, from, mae, line)
				if mae > 0.03 {
					t.Errorf("from a pool of %d: mean absolute error %.4f, want at most 0.03:%s", from, mae, line)
				}
			}
		})
	}
}
