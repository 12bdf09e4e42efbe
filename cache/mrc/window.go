package mrc

import (
	"sync/atomic"
	"time"
)

// window cuts the sliding window into sub-windows: counts go into the
// current one; once it has lasted its span the next one, the oldest,
// is cleared and becomes current. The curve sums them all, so it covers
// between n-1 and n spans of the most recent traffic.
type window struct {
	span  time.Duration // of one sub-window
	cur   int           // the current sub-window's index
	n     int
	start time.Time // when the current sub-window began
}

// due reports whether now is past the current sub-window.
func (w *window) due(now time.Time) bool { return now.Sub(w.start) >= w.span }

// advance makes the sub-window that holds now current, calling open with
// the index of each sub-window it reopens (at most n: after a long quiet
// spell every one is cleared once). A clock that went back changes nothing.
func (w *window) advance(now time.Time, open func(i int)) {
	k := now.Sub(w.start) / w.span
	if k <= 0 {
		return
	}
	w.start = w.start.Add(k * w.span)
	for range min(k, time.Duration(w.n)) {
		w.cur = (w.cur + 1) % w.n
		open(w.cur)
	}
}

// requestCounter counts the requests for keys not sampled, on the path
// each of them takes (sampled ones are counted under the lock). Stripes on
// their own cache lines, picked by the key's hash, keep cores from
// contending for one counter.
type requestCounter struct {
	stripes [8]struct {
		n atomic.Int64
		_ [56]byte
	}
}

// add counts a request and returns its stripe's count since the last
// take.
func (c *requestCounter) add(h uint64) int64 { return c.stripes[h&7].n.Add(1) }

// take returns the count since the last take and restarts it.
func (c *requestCounter) take() int64 {
	var n int64
	for i := range c.stripes {
		n += c.stripes[i].n.Swap(0)
	}
	return n
}
