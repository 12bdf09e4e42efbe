package pool

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/picpool/picpool/cache/nodekey"
)

// Fences make the cache entries that might be stale unreadable, for every
// process of a deployment, without reaching the nodes that hold them.
//
// Every node key carries a namespace: the pool's Generation and the fence
// of the node it is stored on (see package nodekey). A pool reads and writes
// only in the current namespace of each node, so raising a number retires
// every entry written under the old one at once:
//
//   - Generation is raised by delete_all, in the same transaction that
//     deletes the images, so no entry of a deleted image can be read again
//     on any node, including a node that is down at that moment.
//   - A node's fence is raised when an invalidation could not reach it
//     (down, frozen, slow): whatever it holds for that key, and for every
//     other key, is retired; it serves again, cold, in its new namespace.
//
// A raise only counts once every process routes by it. Each pool reloads
// the fences every FencesEvery and never reads or writes a node with a
// view of them older than Lease (measured from the start of the read that
// produced it): past that it reloads first. So a writer that raised a
// fence waits Lease after the raise committed before it acknowledges its
// upload, and then no process can read the old namespace. A pool that
// cannot get a view younger than Lease (the database is down, or too slow
// to answer within the lease) does not touch the nodes at all: every read
// is a miss and goes to storage, which answers or fails with a clear
// error. Serving hits from an old view would be faster while the database
// is down, but another process that still reaches it may have replaced an
// image meanwhile, and a node that missed that invalidation would serve
// the replaced one.
type Fences struct {
	Generation uint64            `json:"generation"`
	Nodes      map[string]uint64 `json:"nodes,omitempty"` // node address → fence; absent is 0
}

// ns returns the namespace a node's entries live in now.
func (f Fences) ns(addr string) nodekey.Namespace {
	return nodekey.Namespace{Gen: f.Generation, Fence: f.Nodes[addr]}
}

// merge returns the numbers of f and g, each the higher of the two: views
// only go forward, whatever order reads finish in.
func (f Fences) merge(g Fences) Fences {
	out := Fences{Generation: max(f.Generation, g.Generation), Nodes: maps.Clone(f.Nodes)}
	for n, v := range g.Nodes {
		if v > out.Nodes[n] {
			if out.Nodes == nil {
				out.Nodes = map[string]uint64{}
			}
			out.Nodes[n] = v
		}
	}
	return out
}

// fenceView is a pool's view of the fences and when the read that produced
// it started: the view is good for Lease from then.
type fenceView struct {
	Fences
	readAt time.Time // monotonic
}

// refreshFences reads the fences and routes by them. Concurrent callers
// share one read.
func (p *Pool) refreshFences(ctx context.Context) error {
	_, _, err := p.fenceReads.do(ctx, "", func() (struct{}, error) {
		start := time.Now()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.Lease)
		defer cancel()
		f, err := p.opts.Tables.LoadFences(rctx)
		if err != nil {
			return struct{}{}, fmt.Errorf("cache: read the pool's fences: %w", err)
		}
		p.applyFences(f, start)
		return struct{}{}, nil
	})
	return err
}

// applyFences merges f, read by a read that started at readAt, into the
// view. The merged view holds every raise committed before the later of the
// two reads' starts, so that is its time.
func (p *Pool) applyFences(f Fences, readAt time.Time) {
	for {
		cur := p.fences.Load()
		next := &fenceView{Fences: cur.merge(f), readAt: readAt}
		if cur.readAt.After(readAt) {
			next.readAt = cur.readAt
		}
		if p.fences.CompareAndSwap(cur, next) {
			return
		}
	}
}

// currentFences returns a view of the fences that is good now (younger
// than Lease): the last one, or a fresh read. It returns nil when it cannot
// get one in time, and the caller must then leave the nodes alone (see
// Fences); the failure is logged now and then.
func (p *Pool) currentFences(ctx context.Context) *fenceView {
	if f := p.fences.Load(); p.good(f) {
		return f
	}
	err := p.refreshFences(ctx)
	if f := p.fences.Load(); err == nil && p.good(f) {
		return f
	}
	if p.fenceWarn.allow(time.Now()) {
		if err == nil {
			err = errors.New("the read took longer than the lease")
		}
		p.log.Warn("cache: reads bypass the pool: no view of the pool's fences younger than the lease", "lease", p.opts.Lease, "err", err)
	}
	return nil
}

// good reports whether a view of the fences may still route a request:
// no raise acknowledged since can be missing from it.
func (p *Pool) good(f *fenceView) bool { return time.Since(f.readAt) < p.opts.Lease }

// fence retires what the given nodes hold: it raises their fences, routes
// by the new ones, and returns once no process can read the old
// namespaces (Lease after the raise). A caller whose invalidation did not
// reach a node calls this before it acknowledges the write.
func (p *Pool) fence(ctx context.Context, nodes []string) error {
	for _, n := range nodes {
		if err := p.opts.Tables.RaiseFence(ctx, n); err != nil {
			return fmt.Errorf("cache: retire the entries of node %s: %w", n, err)
		}
	}
	raised := time.Now()
	p.log.Info("cache: raised node fences: their entries are retired", "nodes", nodes)
	if err := p.refreshFences(ctx); err != nil {
		return err
	}
	return sleep(ctx, time.Until(raised.Add(p.opts.Lease)))
}

// Purge makes sure nothing written before it was called can be read: the
// caller has raised the generation (store does so when it deletes every
// image); Purge waits until every process routes by it, then clears the
// nodes that answer to free their memory (those that do not hold only
// unreadable entries).
func (p *Pool) Purge(ctx context.Context) error {
	start := time.Now()
	if err := p.refreshFences(ctx); err != nil {
		return err
	}
	if err := sleep(ctx, time.Until(start.Add(p.opts.Lease))); err != nil {
		return err
	}
	if err := p.Clear(ctx); err != nil {
		p.log.Warn("cache: after delete all, some nodes could not be cleared; their entries are unreadable and age out", "err", err)
	}
	return nil
}
