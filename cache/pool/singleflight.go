package pool

import (
	"context"
	"sync"
)

// flightGroup runs one load per key at a time: callers that ask for a key
// while its load is in flight wait for that load's result instead of
// starting their own (groupcache's singleflight, with context).
type flightGroup[T any] struct {
	mu     sync.Mutex
	flying map[string]*flight[T]
}

type flight[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// do returns the result of load for key, sharing it with concurrent
// callers; shared reports whether this caller waited for another's load.
// A waiter whose ctx ends stops waiting; the load itself runs on.
func (g *flightGroup[T]) do(ctx context.Context, key string, load func() (T, error)) (v T, shared bool, err error) {
	g.mu.Lock()
	if f, ok := g.flying[key]; ok {
		g.mu.Unlock()
		select {
		case <-f.done:
			return f.val, true, f.err
		case <-ctx.Done():
			return v, true, ctx.Err()
		}
	}
	if g.flying == nil {
		g.flying = map[string]*flight[T]{}
	}
	f := &flight[T]{done: make(chan struct{})}
	g.flying[key] = f
	g.mu.Unlock()

	defer func() {
		g.mu.Lock()
		delete(g.flying, key)
		g.mu.Unlock()
		close(f.done)
	}()
	f.val, f.err = load()
	return f.val, false, f.err
}
