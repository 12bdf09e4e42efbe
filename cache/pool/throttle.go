package pool

import (
	"sync/atomic"
	"time"
)

// throttle lets something through at most once every interval: a warning
// that would otherwise be logged on every request while a backend is down.
type throttle struct {
	every time.Duration
	last  atomic.Int64 // unix nanoseconds of the last one let through
}

func (t *throttle) allow(now time.Time) bool {
	last := t.last.Load()
	if now.UnixNano()-last < int64(t.every) {
		return false
	}
	return t.last.CompareAndSwap(last, now.UnixNano())
}
