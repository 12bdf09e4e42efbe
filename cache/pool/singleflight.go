package pool

import (
	"context"
	"sync"
)

// flightGroup runs one load per key at a time: callers that ask for a key
// while its load is in flight share a load instead of starting their own
// (groupcache's singleflight, with context).
//
// Unlike groupcache's, a caller never takes the result of a load that
// began before it asked: that load may have read the origin before a
// write the caller has already seen acknowledged (an upload, in this or
// another process), and would hand it the replaced image. A caller that
// arrives while a load runs waits for the next one instead, which starts
// when the running one ends and is shared by everyone who arrived
// meanwhile: at most two loads of a key are ever pending, and each caller
// gets a result read after it asked.
type flightGroup[T any] struct {
	mu     sync.Mutex
	flying map[string]*flight[T] // the running load of a key, or the next one, not yet started
}

type flight[T any] struct {
	started bool          // its load has begun; guarded by the group's mu
	next    *flight[T]    // the flight of those who arrived after it started; guarded by mu
	done    chan struct{} // closed when val and err are set
	val     T
	err     error
}

// do returns the result of a load for key that began after do was
// called, sharing it with concurrent callers; shared reports whether this
// caller took another's load. A waiter whose ctx ends stops waiting; a
// load runs on when its starter's ctx ends.
func (g *flightGroup[T]) do(ctx context.Context, key string, load func() (T, error)) (v T, shared bool, err error) {
	g.mu.Lock()
	if g.flying == nil {
		g.flying = map[string]*flight[T]{}
	}
	f := g.flying[key]
	switch {
	case f == nil:
		f = &flight[T]{done: make(chan struct{})}
		g.flying[key] = f
	case f.started:
		// Too late for this one: wait for it to end, then share the next.
		if f.next == nil {
			f.next = &flight[T]{done: make(chan struct{})}
		}
		running := f
		f = f.next
		g.mu.Unlock()
		select {
		case <-running.done:
		case <-ctx.Done():
			return v, true, ctx.Err()
		}
		g.mu.Lock()
	}
	if !f.started {
		// The first waiter to get here runs the flight for all of them.
		f.started = true
		g.mu.Unlock()
		g.run(key, f, load)
		return f.val, false, f.err
	}
	g.mu.Unlock()
	select {
	case <-f.done:
		return f.val, true, f.err
	case <-ctx.Done():
		return v, true, ctx.Err()
	}
}

// run loads f's result, then hands the key to the flight of those who
// arrived meanwhile (its waiters start it) or, when none did, frees it.
func (g *flightGroup[T]) run(key string, f *flight[T], load func() (T, error)) {
	defer func() {
		g.mu.Lock()
		if f.next != nil {
			g.flying[key] = f.next
		} else {
			delete(g.flying, key)
		}
		g.mu.Unlock()
		close(f.done)
	}()
	f.val, f.err = load()
}
