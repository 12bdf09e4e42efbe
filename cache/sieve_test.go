package cache

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// sieveModel is SIEVE as the paper states it, on a slice (newest first),
// for the property test: obviously right, and slow.
type sieveModel struct {
	capacity, used int64
	keys           []string // newest first
	costs          map[string]int64
	visited        map[string]bool
	hand           string // "" : start at the oldest
}

func newSieveModel(capacity int64) *sieveModel {
	return &sieveModel{capacity: capacity, costs: map[string]int64{}, visited: map[string]bool{}}
}

func (m *sieveModel) get(k string) bool {
	if _, ok := m.costs[k]; !ok {
		return false
	}
	m.visited[k] = true
	return true
}

func (m *sieveModel) remove(k string) {
	i := slices.Index(m.keys, k)
	if m.hand == k { // the hand moves on to the next newer item
		m.hand = ""
		if i > 0 {
			m.hand = m.keys[i-1]
		}
	}
	m.keys = slices.Delete(m.keys, i, i+1)
	m.used -= m.costs[k]
	delete(m.costs, k)
	delete(m.visited, k)
}

// evict sweeps from the hand and removes the first unvisited item other
// than pin.
func (m *sieveModel) evict(pin string) {
	i := len(m.keys) - 1
	if m.hand != "" {
		i = slices.Index(m.keys, m.hand)
	}
	for m.visited[m.keys[i]] || m.keys[i] == pin {
		m.visited[m.keys[i]] = false
		if i--; i < 0 {
			i = len(m.keys) - 1
		}
	}
	m.hand = m.keys[i] // remove moves it on to the next newer item
	m.remove(m.keys[i])
}

func (m *sieveModel) set(k string, cost int64) {
	if old, ok := m.costs[k]; ok && cost <= m.capacity {
		// An update: in place, visited, never its own victim.
		m.costs[k] = cost
		m.used += cost - old
		for m.used > m.capacity {
			m.evict(k)
		}
		m.visited[k] = true
		return
	}
	if _, ok := m.costs[k]; ok {
		m.remove(k)
	}
	if cost > m.capacity {
		return
	}
	for m.used+cost > m.capacity {
		m.evict("")
	}
	m.keys = slices.Insert(m.keys, 0, k)
	m.costs[k] = cost
	m.used += cost
}

// TestSIEVEMatchesModel drives the engine and the model with the same
// random operations: single-threaded, SIEVE is exact, so the hits and the
// contents in queue order must be identical.
func TestSIEVEMatchesModel(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 3))
		capacity := int64(300 + r.IntN(1500))
		c, m := newSIEVE(capacity), newSieveModel(capacity)
		for n := range 3000 {
			k := fmt.Sprintf("k%d", r.IntN(40))
			switch op := r.IntN(10); {
			case op < 6:
				_, got := c.Get(k)
				if want := m.get(k); got != want {
					t.Fatalf("seed %d op %d: Get(%s) hit %v, model %v", seed, n, k, got, want)
				}
			case op < 9:
				v := make([]byte, r.IntN(200))
				_ = c.Set(k, v)
				m.set(k, Cost(k, v))
			default:
				c.Delete(k)
				if _, ok := m.costs[k]; ok {
					m.remove(k)
				}
			}
			if got := c.queueKeys(); !slices.Equal(got, m.keys) {
				t.Fatalf("seed %d op %d: queue %q, model %q", seed, n, got, m.keys)
			}
			if c.Size() != m.used {
				t.Fatalf("seed %d op %d: Size %d, model %d", seed, n, c.Size(), m.used)
			}
		}
	}
}

// queueKeys returns the keys from newest to oldest, for tests.
func (c *SIEVE) queueKeys() []string {
	var ks []string
	for i := c.q.head; i != 0; i = c.t.at(i).next {
		ks = append(ks, c.t.at(i).key)
	}
	return ks
}

func TestSIEVERangeVisitedFirst(t *testing.T) {
	c := newSIEVE(1 << 20)
	for _, k := range []string{"a", "b", "c", "d"} {
		_ = c.Set(k, []byte(k))
	}
	c.Get("b")
	c.Get("d")
	var got []string
	c.Range(func(k string, _ []byte) bool { got = append(got, k); return true })
	if want := []string{"d", "b", "c", "a"}; !slices.Equal(got, want) {
		t.Fatalf("Range order %q, want %q", got, want)
	}
}
