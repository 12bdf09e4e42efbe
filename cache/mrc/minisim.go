package mrc

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"github.com/picpool/picpool/cache"
)

// minisim is miniature simulation for policies without the stack
// property: one scaled-down cache per point of the curve, built with
// cache.New, fed the sampled requests. A cache meant to model c bytes
// gets c × rate bytes: the sample holds that share of the keys, so it
// holds the same share of them as the real cache would.
//
// Items are scaled down too, by sizeScale, with capacities to match: every
// policy decides on costs relative to each other and to the capacity
// (sizelfu weighs accesses per byte), so this changes no decision, and the
// values, which share one buffer, need 1/sizeScale of the largest item's
// bytes. Keys are the 8 bytes of the hash; a value's length makes up the
// rest of the scaled cost, which cannot go under those 8 bytes and
// cache.ItemOverhead: an item under 4.6 KB is charged as 4.6 KB (images
// are 10 KB and more).
type minisim struct {
	policy string
	seed   uint64
	made   uint64  // caches made, for their random streams
	sizes  []int64 // the capacity each cache models, in real bytes
	caches []cache.Engine
	peaks  []int // the most items each cache held since it was made
	buf    []byte
	// bufBytes counts every buffer made: items hold on to old ones until
	// they leave the caches.
	bufBytes int64
	// est is the last memory estimate of the caches' items, refreshed
	// every estimateEvery accesses (it takes each cache's lock).
	est, accesses int64
}

// Points of the curve: capacity × 2^k for k in ±miniDoublings, which
// covers resizing a pool from 1 to 8 nodes and back.
const (
	miniDoublings = 3
	sizeScale     = 64
	estimateEvery = 32
	scaledKeyLen  = 8
	minScaledCost = scaledKeyLen + cache.ItemOverhead
)

func newMinisim(policy string, capacity int64, seed uint64) (*minisim, error) {
	m := &minisim{policy: policy, seed: seed}
	for k := -miniDoublings; k <= miniDoublings; k++ {
		size := int64(math.Round(float64(capacity) * math.Exp2(float64(k))))
		m.sizes = append(m.sizes, size)
		e, err := m.newCache(size, 1)
		if err != nil {
			return nil, err
		}
		m.caches = append(m.caches, e)
	}
	m.peaks = make([]int, len(m.caches))
	return m, nil
}

// newCache returns an empty cache modelling size bytes at a rate. Each
// one made draws its own random stream, for the random policy.
func (m *minisim) newCache(size int64, rate float64) (cache.Engine, error) {
	m.made++
	return cache.NewWithOptions(m.policy, scaledCapacity(size, rate), cache.Options{
		Rand: rand.New(rand.NewPCG(m.seed, m.made)),
	})
}

// scaledCapacity is the bytes a cache modelling size bytes gets at a rate.
func scaledCapacity(size int64, rate float64) int64 {
	return int64(math.Round(float64(size) * rate / sizeScale))
}

func (m *minisim) bins() int { return len(m.caches) }

func (m *minisim) access(h uint64, cost int64, rate float64, newcomer bool, t *tally) {
	n := max(int(math.Round(float64(cost)/sizeScale)), minScaledCost) - minScaledCost
	if n > len(m.buf) {
		m.buf = make([]byte, max(n, 2*len(m.buf)))
		m.bufBytes += int64(len(m.buf))
	}
	var kb [scaledKeyLen]byte
	binary.LittleEndian.PutUint64(kb[:], h)
	key := string(kb[:])
	var missed [2*miniDoublings + 1]bool
	for i, c := range m.caches {
		v, hit := c.Get(key)
		if missed[i] = !hit || len(v) != n; missed[i] { // an item of another size is another object
			_ = c.Set(key, m.buf[:n]) // ErrTooLarge: it stays a miss, as on a node
		}
	}
	// A key the largest cache did not hold is one the model did not know.
	if newcomer && missed[len(m.caches)-1] {
		return
	}
	t.sampled += 1 / rate
	for i, miss := range missed {
		if miss {
			t.misses[i] += 1 / rate
		}
	}
	if m.accesses++; m.accesses%estimateEvery == 1 {
		m.est = m.itemBytes()
	}
}

func (m *minisim) points(sum *tally, total float64) []Point {
	ps := make([]Point, len(m.caches))
	for i := range ps {
		ps[i] = Point{Capacity: m.sizes[i], MissRatio: min(1, sum.misses[i]/total)}
	}
	return ps
}

func (m *minisim) open(int) {}

// resample rebuilds every cache at the new rate with the items it still
// samples, least valuable first so that the policy's order survives where
// it has one. A rebuilt cache starts its arrays afresh: TinyLFU's never
// shrink, and keeping them would keep the memory the lower rate is meant
// to free. TinyLFU's frequencies start over too.
func (m *minisim) resample(thr uint64) {
	for i, c := range m.caches {
		var keep []string
		var values [][]byte
		c.(cache.Ranger).Range(func(key string, v []byte) bool {
			if sampled(binary.LittleEndian.Uint64([]byte(key)), thr) {
				keep, values = append(keep, key), append(values, v)
			}
			return true
		})
		e, err := m.newCache(m.sizes[i], rateOf(thr))
		if err != nil { // the policy built this cache before: cannot happen
			c.SetCapacity(scaledCapacity(m.sizes[i], rateOf(thr)))
			continue
		}
		for j := len(keep) - 1; j >= 0; j-- {
			_ = e.Set(keep[j], values[j])
		}
		m.caches[i], m.peaks[i] = e, e.Len()
	}
	m.est = m.itemBytes()
}

// grow raises every cache's capacity to the new rate's.
func (m *minisim) grow(thr uint64) {
	for i, c := range m.caches {
		c.SetCapacity(scaledCapacity(m.sizes[i], rateOf(thr)))
	}
}

// memory counts the value buffer as fixed: it depends on the largest item,
// not on the rate.
func (m *minisim) memory() (fixed, variable int64) {
	return int64(len(m.caches))*engineBytes(m.policy, 0, 0) + m.bufBytes, m.est
}

// itemBytes estimates what the caches' items cost beyond empty caches.
func (m *minisim) itemBytes() int64 {
	var b int64
	for i, c := range m.caches {
		n := c.Len()
		m.peaks[i] = max(m.peaks[i], n)
		b += engineBytes(m.policy, n, m.peaks[i]) - engineBytes(m.policy, 0, 0)
	}
	return b
}
