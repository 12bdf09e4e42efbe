package cache

import (
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
)

// stripedLock lets lookups run in parallel. A reader locks one of several
// mutexes, picked at random so that two cores rarely meet on one; a writer
// locks them all, in order. sync.RWMutex would make every reader write the
// same counter, whose cache line then bounces between cores on every Get;
// here a reader's atomics mostly stay in its own core's cache. Writes
// (Set, Delete) are the minority of a cache's operations.
type stripedLock struct {
	stripes []stripe
	mask    uint32
}

// readBufferLen is how many hits a stripe remembers between drains.
const readBufferLen = 32

// stripe is one reader mutex and the hits recorded under it.
type stripe struct {
	mu sync.Mutex
	// reads holds the key hashes of hits, for a policy that learns from
	// them when it next holds the whole lock (see TinyLFU.drain). It is
	// lossy: once full, hits are dropped until a drain empties it, as in
	// Caffeine's read buffers.
	reads [readBufferLen]uint64
	n     int
	_     [48]byte // 8+256+8+48: a whole number of cache lines, no false sharing
}

func newStripedLock() stripedLock {
	n := 1 << bits.Len(uint(4*runtime.GOMAXPROCS(0)-1)) // 4 per CPU, a power of two
	n = min(max(n, 4), 64)
	return stripedLock{stripes: make([]stripe, n), mask: uint32(n - 1)}
}

// rlock locks a random stripe for a lookup and returns it; the caller
// unlocks s.mu.
func (l *stripedLock) rlock() *stripe {
	s := &l.stripes[rand.Uint32()&l.mask]
	s.mu.Lock()
	return s
}

// lock locks every stripe: the caller then has the engine to itself.
func (l *stripedLock) lock() {
	for i := range l.stripes {
		l.stripes[i].mu.Lock()
	}
}

// tryLock is lock without waiting: it reports false, holding nothing, if
// any stripe is busy.
func (l *stripedLock) tryLock() bool {
	for i := range l.stripes {
		if !l.stripes[i].mu.TryLock() {
			for j := range i {
				l.stripes[j].mu.Unlock()
			}
			return false
		}
	}
	return true
}

func (l *stripedLock) unlock() {
	for i := range l.stripes {
		l.stripes[i].mu.Unlock()
	}
}

// record remembers a hit's key hash and reports whether the buffer is now
// full, so that the caller tries to drain it once it has unlocked s.
func (s *stripe) record(h uint64) (full bool) {
	if s.n < readBufferLen {
		s.reads[s.n] = h
		s.n++
	}
	return s.n == readBufferLen
}
