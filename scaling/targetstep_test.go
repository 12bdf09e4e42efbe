package scaling_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/mrc"
	"github.com/picpool/picpool/cache/partition"
	"github.com/picpool/picpool/cache/sim"
	"github.com/picpool/picpool/scaling"
)

// stepLoad is the step load: 40 images of about 100 KB, read
// uniformly at random.
func stepLoad(n int) []sim.Request {
	r := rand.New(rand.NewPCG(16, 1))
	sizes := make([]int, 40)
	for i := range sizes {
		sizes[i] = 95_000 + r.IntN(10_000)
	}
	trace := make([]sim.Request, n)
	for i := range trace {
		k := r.IntN(len(sizes))
		trace[i] = sim.Request{Key: fmt.Sprintf("step:%02d", k), Size: sizes[k]}
	}
	return trace
}

// servePool records trace on a pool of n nodes of capacity bytes, keys
// routed by the default partitioner, and returns the pool's curve, as its
// owner would combine it, and the miss rate the nodes' own curves give
// at their capacity: what the pool measures.
func servePool(t *testing.T, policy string, n int, capacity int64, trace []sim.Request) (mrc.Curve, float64) {
	t.Helper()
	pt := partition.Rendezvous{}
	nodes := make([]string, n)
	recs := make([]*mrc.Recorder, n)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("10.0.0.%d:5100", i+1)
		r, err := mrc.New(mrc.Options{Policy: policy, Capacity: capacity, Seed: uint64(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		recs[i] = r
	}
	for _, q := range trace {
		recs[pt.Owner(pt.Partition(q.Key), nodes)].Record(q.Key, int64(q.Size))
	}
	curves := make([]mrc.Curve, n)
	var misses float64
	for i, r := range recs {
		curves[i] = r.Curve()
		if curves[i].Requests > 0 {
			misses += float64(curves[i].Requests) * curves[i].MissRatio(capacity)
		}
	}
	return mrc.Combine(curves...), misses / float64(len(trace))
}

// TestTargetSizesStepLoadInOneStep is the convergence check on the
// pure parts: one node of 1 MiB under the step load, target miss rate 0.1.
// From that node's curve the target policy goes from 1 node to N >= 4 in
// one decision; the N nodes that then serve the load (keys spread as the
// partitioner spreads them over these addresses) measure a miss rate
// within the target, and from their curves the policy stays at N. The ratio policy's path on the same load, period by period
// from the miss rate each size measures, is logged beside it.
func TestTargetSizesStepLoadInOneStep(t *testing.T) {
	const node = 1 << 20
	target := scaling.Target{MissRate: 0.1, Hysteresis: scaling.DefaultHysteresis}
	trace := stepLoad(6000)
	for _, policy := range cache.Policies() {
		t.Run(policy, func(t *testing.T) {
			curve, measured := servePool(t, policy, 1, node, trace)
			n := scaling.DecideTarget(1, curve, node, target)
			predicted := scaling.Predict(curve, node)
			if n < 4 {
				t.Fatalf("the target policy went from 1 to %d nodes (predicted %.3f); want 4 or more: 40 images of 100 KB fill 4 MB", n, predicted)
			}
			if predicted[n-2] <= target.MissRate {
				t.Errorf("%d nodes are predicted %.3f, within the target, yet it chose %d", n-1, predicted[n-2], n)
			}
			after, measuredN := servePool(t, policy, n, node, trace)
			if measuredN > target.MissRate {
				t.Errorf("%d nodes measure a miss rate of %.3f, above the target %v", n, measuredN, target.MissRate)
			}
			if again := scaling.DecideTarget(n, after, node, target); again != n {
				t.Errorf("from the %d nodes' own curves the policy moves again, to %d (predicted %.3f)", n, again, scaling.Predict(after, node))
			}
			// The ratio policy, one decision a period.
			path := []int{1}
			for m, size := measured, 1; len(path) < 6; {
				size = scaling.Decide(size, m, int64(len(trace)), scaling.DefaultPolicy())
				path = append(path, size)
				_, m = servePool(t, policy, size, node, trace)
			}
			t.Logf("target 0.1: 1 -> %d (measured %.3f, then %.3f; predicted by size %.3f); ratios, a period each: %v",
				n, measured, measuredN, predicted, path)
			if path[1] >= n {
				t.Errorf("the ratio policy went from 1 to %d in one period; the comparison assumes it takes several", path[1])
			}
		})
	}
}
