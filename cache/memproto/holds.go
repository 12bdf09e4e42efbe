package memproto

import "sync"

// A value's buffer may be reused (see valuePool) once the engine no
// longer stores it and no reader holds it. Readers are GETs whose values
// are still being written out: each Get registers the buffer it hands out
// in its key's stripe, and the value's Release unregisters it. An update
// that replaces or deletes a held buffer marks it retired, and the last
// Release recycles it; one nobody holds is recycled at once.
//
// Range hands out values without registering them; while a Range runs,
// nothing is recycled (see EngineBackend.ranging).

// stripe is one of EngineBackend's key stripes: its lock orders the
// updates of its keys, and held lists its buffers that readers hold.
type stripe struct {
	mu   sync.Mutex
	held map[*byte]*hold // by the buffer's first byte
}

// hold is one held buffer: how many readers hold it, and whether the
// engine has let it go.
type hold struct {
	b       *EngineBackend
	s       *stripe
	buf     []byte // the stored value, suffix and all
	readers int32
	retired bool
}

var holdPool = sync.Pool{New: func() any { return new(hold) }}

// holdLocked registers one more reader of buf; s.mu is held.
func (b *EngineBackend) holdLocked(s *stripe, buf []byte) *hold {
	h := s.held[&buf[0]]
	if h == nil {
		h = holdPool.Get().(*hold)
		*h = hold{b: b, s: s, buf: buf}
		s.held[&buf[0]] = h
	}
	h.readers++
	return h
}

// Release drops one reader; the last one recycles a retired buffer.
func (h *hold) Release() {
	s, b := h.s, h.b
	s.mu.Lock()
	h.readers--
	if h.readers > 0 {
		s.mu.Unlock()
		return
	}
	delete(s.held, &h.buf[0])
	buf, retired := h.buf, h.retired
	*h = hold{}
	s.mu.Unlock()
	holdPool.Put(h)
	if retired {
		b.recycle(buf)
	}
}

// retireLocked is called when the engine no longer stores buf: it is
// recycled now, or by its last reader; s.mu is held.
func (b *EngineBackend) retireLocked(s *stripe, buf []byte) {
	if h := s.held[&buf[0]]; h != nil {
		h.retired = true
		return
	}
	b.recycle(buf)
}

// recycle gives a buffer nobody uses to the pool, unless a Range may
// still read it.
func (b *EngineBackend) recycle(buf []byte) {
	if b.ranging.Load() == 0 {
		b.pool.put(buf)
	}
}
