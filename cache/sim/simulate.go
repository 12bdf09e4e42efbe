// Package sim replays request traces through cache engines, to tell which
// replacement policy serves a workload best: the trace format, a Zipf
// trace generator, and the replay that counts object and byte hits.
package sim

import (
	"errors"
	"fmt"

	"github.com/picpool/picpool/cache"
)

// Result is one policy's replay of a trace (see Simulate).
type Result struct {
	Policy   string
	Requests int64 // counted: after the warm-up
	Hits     int64
	Bytes    int64 // bytes requested, counted
	HitBytes int64 // of those, bytes served from the cache
	Len      int   // items held at the end
	Size     int64 // bytes charged at the end
}

// HitRatio is the share of requests that hit.
func (r Result) HitRatio() float64 { return ratio(r.Hits, r.Requests) }

// ByteHitRatio is the share of requested bytes that hit: the traffic the
// cache saved the storage behind it.
func (r Result) ByteHitRatio() float64 { return ratio(r.HitBytes, r.Bytes) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Simulate replays trace through a new engine of each policy of the given
// capacity (see Replay). The first warmup requests fill the cache and are
// not counted.
func Simulate(policies []string, capacity int64, trace []Request, warmup int) ([]Result, error) {
	if len(policies) == 0 {
		return nil, errors.New("cache: simulate: no policy given")
	}
	results := make([]Result, 0, len(policies))
	for _, p := range policies {
		e, err := cache.New(p, capacity)
		if err != nil {
			return nil, fmt.Errorf("cache: simulate: %w", err)
		}
		res := Replay(e, trace, warmup)
		res.Policy = p
		if name, ok := cache.CanonicalPolicy(p); ok {
			res.Policy = name
		}
		res.Len, res.Size = e.Len(), e.Size()
		results = append(results, res)
	}
	return results, nil
}

// Store is what Replay needs of a cache. Every cache.Engine is one; so is an
// adapter around another library, which is how the engine comparison in
// bench/ replays the same trace through peers.
type Store interface {
	Get(key string) ([]byte, bool)
	Set(key string, value []byte) error
}

// Replay replays trace through s as a cache node sees it: Get, and on a
// miss Set a value of the request's size. A hit on a value of another size
// is a miss (the object changed). The first warmup requests are replayed
// but not counted. Values share one buffer, so a trace of gigabytes needs
// little memory. The Result's Policy, Len and Size are left to the caller.
func Replay(s Store, trace []Request, warmup int) Result {
	maxSize := 0
	for _, r := range trace {
		maxSize = max(maxSize, r.Size)
	}
	buf := make([]byte, maxSize)
	var res Result
	for n, r := range trace {
		v, hit := s.Get(r.Key)
		hit = hit && len(v) == r.Size
		if !hit {
			// cache.ErrTooLarge: the object can never be cached; it stays a miss.
			_ = s.Set(r.Key, buf[:r.Size])
		}
		if n < warmup {
			continue
		}
		res.Requests++
		res.Bytes += int64(r.Size)
		if hit {
			res.Hits++
			res.HitBytes += int64(r.Size)
		}
	}
	return res
}
