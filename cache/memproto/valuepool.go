package memproto

import (
	"math/bits"
	"sync"
)

// valuePool keeps the buffers of replaced and deleted values for new
// ones, as memcached reuses slab chunks: a 100 KB set then costs no fresh
// zeroed memory, no page faults and less garbage. Buffers come in size
// classes 1/16 apart (memcached's are 1.25 apart), so a reused buffer
// wastes at most 6 % of its size; the pool holds at most max bytes, and
// only buffers of at least poolMinBytes, below which allocating is cheap.
type valuePool struct {
	mu    sync.Mutex
	free  map[int][][]byte // by capacity, a size class
	bytes int64
	max   int64
}

// poolMinBytes is the smallest buffer worth pooling.
const poolMinBytes = 16 << 10

// sizeClass rounds n up to its class: to a multiple of 1/16 of the power
// of two below it.
func sizeClass(n int) int {
	grain := 1 << max(bits.Len(uint(n))-5, 0)
	return (n + grain - 1) &^ (grain - 1)
}

func newValuePool(max int64) *valuePool {
	return &valuePool{free: map[int][][]byte{}, max: max}
}

// get returns a buffer of length n from the pool, or nil. Its bytes are
// what the last value left there.
func (p *valuePool) get(n int) []byte {
	if n < poolMinBytes {
		return nil
	}
	c := sizeClass(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.free[c]
	if len(list) == 0 {
		return nil
	}
	buf := list[len(list)-1]
	list[len(list)-1] = nil
	p.free[c] = list[:len(list)-1]
	p.bytes -= int64(c)
	return buf[:n]
}

// put keeps buf for reuse, unless it is not a pooled size or the pool is
// full. Nobody may use buf afterwards.
func (p *valuePool) put(buf []byte) {
	c := cap(buf)
	if c < poolMinBytes || c != sizeClass(c) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+int64(c) > p.max {
		return
	}
	p.free[c] = append(p.free[c], buf[:0])
	p.bytes += int64(c)
}

// size returns the bytes the pool holds.
func (p *valuePool) size() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes
}
