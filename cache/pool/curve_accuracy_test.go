package pool

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/sim"
)

// TestCurveAgainstMeasuredPools is the accuracy check against
// actual runs: a Zipf trace read through real pools (nodes on loopback)
// of 1, 2, 4 and 8 nodes, each lookup a GetOrLoad; the miss rate each
// pool measures against the one the curve of the 1-node run predicts for
// that size. Mean absolute error at most 0.03. Set PICPOOL_CURVE_POLICIES
// (e.g. lru,sieve,random,tinylfu,sizelfu) to check other policies; lru by
// default (each policy's run moves about 1.5 GB over loopback).
func TestCurveAgainstMeasuredPools(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 4 pools read a 40,000-request trace")
	}
	const nodeCapacity = 4 << 20
	trace, err := sim.ZipfTrace{Objects: 3000, Requests: 40_000, S: 1.01, MinSize: 2 << 10, MaxSize: 32 << 10, Seed: 3}.Generate()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string][]byte{}
	for _, q := range trace {
		values[q.Key] = make([]byte, q.Size)
	}
	policies := []string{"lru"}
	if p := os.Getenv("PICPOOL_CURVE_POLICIES"); p != "" {
		policies = strings.Split(p, ",")
	}
	for _, policy := range policies {
		t.Run(policy, func(t *testing.T) {
			var predicted []float64
			var sum float64
			line := ""
			for i, n := range []int{1, 2, 4, 8} {
				tp := newTestPool(t, n, "", nodeCapacity)
				if err := tp.Configure(t.Context(), node.Config{Capacity: nodeCapacity, Policy: policy}); err != nil {
					t.Fatal(err)
				}
				var misses int
				for _, q := range trace {
					v := values[q.Key]
					_, _, hit, err := tp.GetOrLoad(t.Context(), q.Key, func(context.Context) ([]byte, uint64, error) { return v, 1, nil })
					if err != nil {
						t.Fatal(err)
					}
					if !hit {
						misses++
					}
				}
				measured := float64(misses) / float64(len(trace))
				if n == 1 {
					curve, err := tp.Curve(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					for _, m := range []int{1, 2, 4, 8} {
						predicted = append(predicted, curve.PoolMissRatio(m, nodeCapacity))
					}
				}
				p := predicted[i]
				sum += math.Abs(p - measured)
				line += fmt.Sprintf(" %d nodes: %.3f measured %.3f;", n, p, measured)
				tp.Close()
			}
			mae := sum / 4
			t.Logf("%s, nodes of 4 MiB: MAE %.4f:%s", policy, mae, line)
			if mae > 0.03 {
				t.Errorf("mean absolute error %.4f, want at most 0.03:%s", mae, line)
			}
		})
	}
}
