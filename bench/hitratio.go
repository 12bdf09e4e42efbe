package main

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// The hit-ratio workload is picpool simulate's generated one: images of
// 10 KiB to 1 MiB (log-uniform), Zipf popularity unrelated to size, each
// request a Get and on a miss a Set of the image (sim.Replay). The first
// fifth of the trace fills the cache and is not counted.
func imageTrace(objects, requests int, seed uint64) ([]sim.Request, error) {
	return sim.ZipfTrace{Objects: objects, Requests: requests, S: zipfS, MinSize: 10 << 10, MaxSize: 1 << 20, Seed: seed}.Generate()
}

// replayAll replays trace through every contender at capacity and returns
// their results in the order of cs, Policy holding the contender's name.
func replayAll(ctx context.Context, cs []contender, trace []sim.Request, capacity int64) ([]sim.Result, error) {
	// The most items that fit: ristretto sizes its sketch by it, and more
	// counters than too few is the benefit of the doubt.
	smallest := capacity
	for _, r := range trace {
		smallest = min(smallest, cache.Cost(r.Key, nil)+int64(r.Size))
	}
	items := int(capacity / max(smallest, 1))
	results := make([]sim.Result, len(cs))
	for i, c := range cs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := c.build(sizing{capacity: capacity, items: items, replay: true})
		if err != nil {
			return nil, err
		}
		results[i] = sim.Replay(s, trace, len(trace)/5)
		results[i].Policy = c.name
		release(s)
	}
	return results, nil
}

// lruCheck compares picpool's lru with the exact reference at each
// capacity: an exact LRU is deterministic, so any difference in hits is a
// bug (recency not refreshed, the wrong victim, bytes charged otherwise).
// It returns the largest difference in hit ratio, in percentage points,
// and an error that says where they differ.
func lruCheck(results [][]sim.Result, caps []int64) (float64, error) {
	var worst float64
	var errs []error
	for i, byName := range results {
		lru, okL := find(byName, "picpool-lru")
		ref, okR := find(byName, "naive-lru")
		if !okL || !okR {
			return 0, errors.New("lru check: picpool-lru or the reference naive-lru was not measured")
		}
		d := 100 * (lru.HitRatio() - ref.HitRatio())
		if math.Abs(d) > math.Abs(worst) {
			worst = d
		}
		if lru.Hits != ref.Hits || lru.HitBytes != ref.HitBytes {
			errs = append(errs, fmt.Errorf("at %s picpool-lru hit %d times (%d bytes), the exact LRU %d times (%d bytes)",
				mib(caps[i]), lru.Hits, lru.HitBytes, ref.Hits, ref.HitBytes))
		}
	}
	if len(errs) > 0 {
		return worst, fmt.Errorf("lru check: %w", errors.Join(errs...))
	}
	return worst, nil
}

// find returns the result of the named contender.
func find(results []sim.Result, name string) (sim.Result, bool) {
	for _, r := range results {
		if r.Policy == name {
			return r, true
		}
	}
	return sim.Result{}, false
}
