package cache

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Item operations: a node that is down or slow is a miss, never an error,
// and is skipped for DownFor after it fails, so a dead node costs one
// timeout, not one per request.

// Get returns key's value and version from its node; a miss, an empty
// pool and an unreachable node are all (nil, 0, false). While a resize
// moves key's partition, a miss on the new owner falls back to the old.
func (p *Pool) Get(ctx context.Context, key string) ([]byte, uint64, bool) {
	return p.find(ctx, key, (*NodeClient).Get)
}

// peek is Get without counting in the nodes' statistics: a second look
// after a miss that was counted already.
func (p *Pool) peek(ctx context.Context, key string) ([]byte, uint64, bool) {
	return p.find(ctx, key, (*NodeClient).Peek)
}

// nodeGet is NodeClient.Get or NodeClient.Peek.
type nodeGet func(c *NodeClient, ctx context.Context, key string) ([]byte, uint64, bool, error)

func (p *Pool) find(ctx context.Context, key string, get nodeGet) ([]byte, uint64, bool) {
	nk := NodeKey(key)
	r := p.route.Load()
	if r.owner == nil {
		return nil, 0, false
	}
	part := r.pt.Partition(nk)
	if v, ver, ok := p.lookup(ctx, r.owner[part], nk, get); ok {
		return v, ver, true
	}
	if r.prev != nil && r.prev[part] != nil {
		return p.lookup(ctx, r.prev[part], nk, get)
	}
	return nil, 0, false
}

func (p *Pool) lookup(ctx context.Context, c *NodeClient, nk string, get nodeGet) ([]byte, uint64, bool) {
	if !p.available(c) {
		return nil, 0, false
	}
	v, ver, hit, err := get(c, ctx, nk)
	if err != nil {
		p.failed(c, err)
		return nil, 0, false
	}
	return v, ver, hit
}

func (p *Pool) available(c *NodeClient) bool {
	return time.Now().UnixNano() >= c.downUntil.Load()
}

// failed marks a node down for DownFor after an unavailability (not after
// a request the caller cancelled).
func (p *Pool) failed(c *NodeClient, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	if c.downUntil.Swap(time.Now().Add(p.opts.DownFor).UnixNano()) < time.Now().UnixNano() {
		p.log.Warn("cache node unavailable; treating its keys as misses", "node", c.Addr(), "for", p.opts.DownFor, "err", err)
	}
}

// LoadFunc loads a value and its version from the origin on a miss.
type LoadFunc func(ctx context.Context) (value []byte, version uint64, err error)

// GetOrLoad returns key's value from the pool, or on a miss loads it and
// puts it into its node with its version (a set older than what the node
// holds is ignored there). Concurrent misses on one key share one load.
// hit reports whether the value came from the pool.
func (p *Pool) GetOrLoad(ctx context.Context, key string, load LoadFunc) (value []byte, version uint64, hit bool, err error) {
	if v, ver, ok := p.Get(ctx, key); ok {
		return v, ver, true, nil
	}
	res, _, err := p.loads.do(ctx, NodeKey(key), func() (loaded, error) {
		// The load outlives the caller that started it: others may wait on it.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.LoadTimeout)
		defer cancel()
		// A caller that missed just before the previous load of this key
		// put its value in starts a flight of its own: look once more, so
		// that it costs a node round trip rather than an origin read.
		if v, ver, ok := p.peek(lctx, key); ok {
			return loaded{v, ver}, nil
		}
		v, ver, err := load(lctx)
		if err != nil {
			return loaded{}, err
		}
		p.Set(lctx, key, ver, v)
		return loaded{v, ver}, nil
	})
	return res.value, res.version, false, err
}

// Set puts a value into key's node at version. It reports whether the
// node stored it; failures are logged, not returned: a cache that could
// not keep a value has only lost a future hit.
func (p *Pool) Set(ctx context.Context, key string, version uint64, value []byte) bool {
	nk := NodeKey(key)
	r := p.route.Load()
	if r.owner == nil {
		return false
	}
	c := r.owner[r.pt.Partition(nk)]
	if !p.available(c) {
		return false
	}
	stored, err := c.Set(ctx, nk, version, value)
	if err != nil {
		if errors.Is(err, ErrNodeUnavailable) {
			p.failed(c, err)
		}
		return false
	}
	return stored
}

// Invalidate removes key from its node (and from its previous node while a
// resize moves it), leaving a tombstone so that loads of versions older
// than version cannot put a replaced value back. It returns the nodes'
// errors: an unreachable node may still hold the old value when it
// returns.
//
// If the table changes while the deletes run, they run again on the new
// table: otherwise a delete routed by the table before a resize could land
// on the old owner after the move had already copied the old value to the
// new one.
func (p *Pool) Invalidate(ctx context.Context, key string, version uint64) error {
	nk := NodeKey(key)
	for {
		r := p.route.Load()
		if r.owner == nil {
			return nil
		}
		part := r.pt.Partition(nk)
		targets := []*NodeClient{r.owner[part]}
		if r.prev != nil && r.prev[part] != nil {
			targets = append(targets, r.prev[part])
		}
		var errs []error
		for _, c := range targets {
			if err := c.Delete(ctx, nk, version); err != nil {
				errs = append(errs, err)
			}
		}
		if p.route.Load() == r || ctx.Err() != nil {
			return errors.Join(errs...)
		}
	}
}

// Clear drops every item on every node.
func (p *Pool) Clear(ctx context.Context) error {
	t := p.route.Load().table
	return p.eachMember(append(t.Members, t.Previous...), func(c *NodeClient) error { return c.Clear(ctx) })
}

// eachMember runs f on the client of every distinct member, in parallel,
// and joins the errors.
func (p *Pool) eachMember(members []string, f func(*NodeClient) error) error {
	seen := map[string]bool{}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, m := range members {
		if seen[m] {
			continue
		}
		seen[m] = true
		c := p.client(m)
		wg.Go(func() {
			if err := f(c); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// MemberHealth is one node as the pool sees it.
type MemberHealth struct {
	Addr    string
	Healthy bool
	Error   string     // why it is not healthy
	Status  NodeStatus // valid when Healthy
}

// Health asks every node of the table for its status, in parallel.
func (p *Pool) Health(ctx context.Context) []MemberHealth {
	members := p.route.Load().table.Members
	out := make([]MemberHealth, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() {
			st, err := p.client(m).Status(ctx)
			out[i] = MemberHealth{Addr: m, Healthy: err == nil, Status: st}
			if err != nil {
				out[i].Error = err.Error()
			}
		})
	}
	wg.Wait()
	return out
}

// Window returns the pool's request counts over the last 60 seconds,
// sliding: the sum over the nodes that answer.
func (p *Pool) Window(ctx context.Context) Counts {
	var sum Counts
	for _, h := range p.Health(ctx) {
		if h.Healthy {
			sum.Requests += h.Status.Window.Requests
			sum.Hits += h.Status.Window.Hits
			sum.Misses += h.Status.Window.Misses
		}
	}
	return sum
}
