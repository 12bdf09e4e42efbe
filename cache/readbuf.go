package cache

import (
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
)

// readBuffers record the key hashes of hits for a policy that applies
// them later in a batch (see TinyLFU.drain), so that Get needs only the
// read lock. They are lossy, as Caffeine's read buffers: a full stripe
// drops hits until it is drained, and a hit recorded while its stripe is
// drained may wait for the next drain. Stripes are picked at random so
// that two cores rarely share one; each sits on its own cache lines.
type readBuffers struct {
	stripes []readStripe
	mask    uint32
}

// readBufferLen is how many hits a stripe holds between drains.
const readBufferLen = 32

type readStripe struct {
	n     atomic.Uint32                // slots claimed; may pass readBufferLen when full
	reads [readBufferLen]atomic.Uint64 // 0: empty
	_     [56]byte                     // 4+4 (padding)+256+56: a whole number of cache lines
}

func newReadBuffers() readBuffers {
	n := 1 << bits.Len(uint(4*runtime.GOMAXPROCS(0)-1)) // 4 per CPU, a power of two
	n = min(max(n, 4), 64)
	return readBuffers{stripes: make([]readStripe, n), mask: uint32(n - 1)}
}

// record remembers a hit. Each caller claims its own slot; a drain may
// run at the same time. It returns the stripe and whether it is full, so
// that the caller can try to drain it.
func (b *readBuffers) record(h uint64) (s *readStripe, full bool) {
	s = &b.stripes[rand.Uint32()&b.mask]
	if s.n.Load() >= readBufferLen {
		return s, true
	}
	i := s.n.Add(1)
	if i <= readBufferLen {
		s.reads[i-1].Store(h) // a hash of 0 reads as empty and is lost: once in 2^64
	}
	return s, i >= readBufferLen
}

// drain calls fn for every hit recorded in s and empties it. One drain at
// a time.
func (s *readStripe) drain(fn func(h uint64)) {
	n := min(s.n.Load(), readBufferLen)
	if n == 0 {
		return
	}
	// A slot claimed but not yet written reads 0 and is skipped; one
	// written after the reset below is applied by a later drain.
	for i := range s.reads[:n] {
		if h := s.reads[i].Swap(0); h != 0 {
			fn(h)
		}
	}
	s.n.Store(0)
}

// drainAll drains every stripe.
func (b *readBuffers) drainAll(fn func(h uint64)) {
	for i := range b.stripes {
		b.stripes[i].drain(fn)
	}
}
