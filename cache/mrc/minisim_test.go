package mrc

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// alignedTrace is a skewed trace whose costs are whole multiples of
// sizeScale, so that scaling them down loses nothing: key "k0000" is 5
// bytes, and 5 + size + 64 = 64 × m.
func alignedTrace(seed uint64, keys, n int) []sim.Request {
	return skewedTrace(seed, keys, n, "k%04d", func(r *rand.Rand) int {
		return 64*(80+r.IntN(700)) - 5 - cache.ItemOverhead
	})
}

// TestMinisimMatchesEngines checks that, sampling every key, each
// miniature cache misses exactly as a full-size engine of the policy
// does, for policies whose decisions depend only on order and cost.
func TestMinisimMatchesEngines(t *testing.T) {
	trace := alignedTrace(1, 400, 8000)
	const capacity = 2 << 20
	for _, policy := range []string{"lru", "sieve"} {
		m, err := newMinisim(policy, capacity, 1)
		if err != nil {
			t.Fatal(err)
		}
		tl := tally{misses: make([]float64, m.bins())}
		for _, q := range trace {
			m.access(hashKey(3, q.Key), int64(len(q.Key)+q.Size+cache.ItemOverhead), 1, false, &tl)
		}
		for i, p := range m.points(&tl, float64(len(trace))) {
			if want := simulatedMissRatio(t, policy, m.sizes[i], trace); math.Abs(p.MissRatio-want) > 1e-12 || p.Capacity != m.sizes[i] {
				t.Errorf("%s: point %d at %d bytes: miss ratio %v, engine of %d bytes %v", policy, i, p.Capacity, p.MissRatio, m.sizes[i], want)
			}
		}
		if m.sizes[0] != capacity/8 || m.sizes[len(m.sizes)-1] != 8*capacity {
			t.Errorf("%s: caches model %d to %d bytes, want %d to %d", policy, m.sizes[0], m.sizes[len(m.sizes)-1], capacity/8, 8*capacity)
		}
	}
}

// TestMinisimResample checks that a lower rate drops the keys it no
// longer samples and scales every cache down to match.
func TestMinisimResample(t *testing.T) {
	m, err := newMinisim("sieve", 1<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	tl := tally{misses: make([]float64, m.bins())}
	for _, q := range alignedTrace(2, 300, 3000) {
		m.access(hashKey(3, q.Key), int64(len(q.Key)+q.Size+cache.ItemOverhead), 1, false, &tl)
	}
	thr := uint64(fullRate / 4)
	m.resample(thr)
	for i, c := range m.caches {
		if got, want := c.Capacity(), scaledCapacity(m.sizes[i], 0.25); got != want {
			t.Errorf("cache %d: capacity %d, want %d", i, got, want)
		}
		c.(cache.Ranger).Range(func(key string, _ []byte) bool {
			if h := binary.LittleEndian.Uint64([]byte(key)); !sampled(h, thr) {
				t.Errorf("cache %d still holds a key of hash %x, not sampled at rate 1/4", i, h)
				return false
			}
			return true
		})
	}
	if m.caches[len(m.caches)-1].Len() == 0 {
		t.Error("the largest cache holds nothing after resampling: it dropped sampled keys too")
	}
}
