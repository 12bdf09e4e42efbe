package pool

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/nodekey"
	"github.com/picpool/picpool/cache/partition"
)

// Item operations. A node that is down or slow is a miss, never an error
// (see health.go); a write that could not reach a node retires what
// the node holds instead (see Fences).

// view is what one request routes by: the table and a good view of the
// fences, taken once, so that a load's set lands in the namespace its
// lookup used and a raise in between retires it. With no good view of the
// fences (f nil) a request reads and writes no node.
type view struct {
	r *routing
	f *fenceView
}

func (p *Pool) view(ctx context.Context) view {
	return view{r: p.route.Load(), f: p.currentFences(ctx)}
}

// targets returns the clients a key's reads try, in order: its owner, and
// its previous owner while a resize moves its partition.
func (v view) targets(k nodekey.Key) []*peer {
	if v.r.owner == nil || v.f == nil {
		return nil
	}
	part := partition.OfHash(v.r.pt, k.Hash())
	if v.r.prev != nil && v.r.prev[part] != nil {
		return []*peer{v.r.owner[part], v.r.prev[part]}
	}
	return []*peer{v.r.owner[part]}
}

// Get returns key's value and version from its node; a miss, an empty
// pool and an unreachable node are all (nil, 0, false). While a resize
// moves key's partition, a miss on the new owner falls back to the old.
func (p *Pool) Get(ctx context.Context, key string) ([]byte, uint64, bool) {
	return p.find(ctx, p.view(ctx), nodekey.Of(key), counted)
}

// lookup says how find asks a node: a counted lookup, or a peek that the
// node's statistics do not count (node.Client.Peek).
type lookup bool

const (
	counted lookup = false
	peek    lookup = true
)

func (p *Pool) find(ctx context.Context, v view, k nodekey.Key, how lookup) ([]byte, uint64, bool) {
	for _, c := range v.targets(k) {
		if !c.up() {
			continue
		}
		var value []byte
		var version uint64
		var hit bool
		var err error
		if how == peek {
			value, version, hit, err = c.Peek(ctx, k.In(v.f.ns(c.Addr())))
		} else {
			value, version, hit, err = p.hot.get(ctx, c.Client, k.In(v.f.ns(c.Addr())))
		}
		if err != nil {
			p.failed(c, err)
			continue
		}
		if hit {
			return value, version, true
		}
	}
	return nil, 0, false
}

// LoadFunc loads a value and its version from the origin on a miss.
type LoadFunc func(ctx context.Context) (value []byte, version uint64, err error)

// GetOrLoad returns key's value from the pool, or on a miss loads it and
// puts it into its node with its version (a set older than what the node
// holds is ignored there). Concurrent misses on one key share one load.
// hit reports whether the value came from the pool.
func (p *Pool) GetOrLoad(ctx context.Context, key string, load LoadFunc) (value []byte, version uint64, hit bool, err error) {
	v, k := p.view(ctx), nodekey.Of(key)
	if value, version, ok := p.find(ctx, v, k, counted); ok {
		return value, version, true, nil
	}
	res, _, err := p.loads.do(ctx, key, func() (loaded, error) {
		// The load outlives the caller that started it: others may wait on it.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.LoadTimeout)
		defer cancel()
		// A caller that missed just before the previous load of this key
		// put its value in starts a flight of its own: look once more, so
		// that it costs a node round trip rather than an origin read. The
		// second look is a peek: one lookup is one miss in the statistics.
		if value, version, ok := p.find(lctx, v, k, peek); ok {
			return loaded{value, version}, nil
		}
		value, version, err := load(lctx)
		if err != nil {
			return loaded{}, err
		}
		// The set goes to the namespace the lookup used: if a fence was
		// raised meanwhile, the value lands where nobody reads.
		p.set(lctx, v, k, version, value)
		return loaded{value, version}, nil
	})
	return res.value, res.version, false, err
}

// Set puts a value into key's node at version. It reports whether the
// node stored it; failures are logged, not returned: a cache that could
// not keep a value has only lost a future hit.
func (p *Pool) Set(ctx context.Context, key string, version uint64, value []byte) bool {
	return p.set(ctx, p.view(ctx), nodekey.Of(key), version, value)
}

func (p *Pool) set(ctx context.Context, v view, k nodekey.Key, version uint64, value []byte) bool {
	targets := v.targets(k)
	if len(targets) == 0 || !targets[0].up() {
		return false
	}
	c := targets[0]
	stored, err := c.Set(ctx, k.In(v.f.ns(c.Addr())), version, value)
	if err != nil {
		p.failed(c, err)
		return false
	}
	return stored
}

// ErrNotInvalidated is returned by Invalidate when it could neither reach
// a node that may hold the key nor retire that node's entries (the
// database did not answer): that node may serve the old value until it is
// retired. Invalidate retries in the background meanwhile.
var ErrNotInvalidated = errors.New("cache: the old value could not be invalidated")

// Invalidate makes every value of key older than version unreadable, on
// every node that may hold it (its owner, and its previous owner while a
// resize moves it): it deletes the key there, leaving a tombstone that
// keeps slow readers from putting an older version back; a node that it
// cannot reach is fenced instead (see Fences). When it returns nil, no
// read that starts afterwards, in any process, can return an older value.
//
// It first reads the fences, because a reader may have put the old value
// into a namespace raised since this process last looked. If the table
// changes while the deletes run, they run again on the new table:
// otherwise a delete routed by the table before a resize could land on
// the old owner after the move had copied the old value to the new one.
//
// The values derived from key under the given names (see GetOrMake) go
// with it, the same way.
func (p *Pool) Invalidate(ctx context.Context, key string, version uint64, derived ...string) error {
	err := p.invalidate(ctx, key, version, derived)
	if errors.Is(err, ErrNotInvalidated) {
		p.invalidateLater(key, version, derived)
	}
	return err
}

func (p *Pool) invalidate(ctx context.Context, key string, version uint64, derived []string) error {
	k := nodekey.Of(key)
	keys := []nodekey.Key{k}
	for _, name := range derived {
		keys = append(keys, k.Derived(name))
	}
	if err := p.refreshFences(ctx); err != nil {
		return fmt.Errorf("%w: %q: %w", ErrNotInvalidated, key, err)
	}
	for {
		v := view{r: p.route.Load(), f: p.fences.Load()}
		var missed []string
		for _, c := range v.targets(k) {
			if !c.up() {
				missed = append(missed, c.Addr())
				continue
			}
			for _, k := range keys {
				if err := c.Delete(ctx, k.In(v.f.ns(c.Addr())), version); err != nil {
					p.failed(c, err)
					missed = append(missed, c.Addr())
					break
				}
			}
		}
		if len(missed) > 0 {
			if err := p.fence(ctx, missed); err != nil {
				return fmt.Errorf("%w: %q: %w", ErrNotInvalidated, key, err)
			}
		}
		if p.route.Load() == v.r || ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Clear drops every item on every node that answers.
func (p *Pool) Clear(ctx context.Context) error {
	t := p.route.Load().table
	return p.eachMember(append(t.Members, t.Previous...), func(c *peer) error { return c.Clear(ctx) })
}

// eachMember runs f on the peer of every distinct member, in parallel,
// and joins the errors.
func (p *Pool) eachMember(members []string, f func(*peer) error) error {
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
	Error   string      // why it is not healthy
	Status  node.Status // valid when Healthy
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
func (p *Pool) Window(ctx context.Context) node.Counts {
	var sum node.Counts
	for _, h := range p.Health(ctx) {
		if h.Healthy {
			sum.Requests += h.Status.Window.Requests
			sum.Hits += h.Status.Window.Hits
			sum.Misses += h.Status.Window.Misses
		}
	}
	return sum
}
