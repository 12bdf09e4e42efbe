package pool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/nodekey"
	"github.com/picpool/picpool/cache/partition"
)

// MoveReport describes the entries one resize moved between nodes.
type MoveReport struct {
	From, To   int           // pool sizes
	Partitions int           // partitions whose owner changed
	Entries    int           // entries copied to their new owners
	Bytes      int64         // value bytes copied
	Stale      int           // entries the new owner already had newer
	Failed     int           // entries lost because a node failed mid-move
	Took       time.Duration // the copy alone, without the settle waits
}

// Resize grows or shrinks the pool to n nodes, warm: new nodes are
// configured before they serve; every partition whose owner changes is
// copied from its old owner to its new one while reads that miss on the
// new owner fall back to the old; a node that leaves is drained that way
// and only then removed. It returns when routing uses the new table.
func (p *Pool) Resize(ctx context.Context, n int) error {
	if p.opts.Provider == nil {
		return ErrNotOwner
	}
	if n < MinNodes || n > MaxNodes {
		return fmt.Errorf("%w: %d nodes asked, the pool takes %d to %d", ErrSize, n, MinNodes, MaxNodes)
	}
	p.resizeMu.Lock()
	defer p.resizeMu.Unlock()
	return p.resize(ctx, n)
}

// resize is Resize, with resizeMu held.
func (p *Pool) resize(ctx context.Context, n int) error {
	cur, err := p.latest(ctx)
	if err != nil {
		return err
	}
	from := len(cur.Members)
	if n == from {
		return nil
	}
	next := slices.Clone(cur.Members)
	var leaving []string
	if n > from {
		if err := p.opts.Provider.SetSize(ctx, n); err != nil {
			return fmt.Errorf("cache: grow the pool to %d nodes: %w", n, err)
		}
		members, err := p.waitMembers(ctx, n)
		if err != nil {
			return err
		}
		var fresh []string
		for _, m := range members {
			if !slices.Contains(next, m) && len(next)+len(fresh) < n {
				fresh = append(fresh, m)
			}
		}
		// A node gets the pool's configuration before it serves any key.
		if err := p.configureNew(ctx, fresh, cur.Config); err != nil {
			return err
		}
		next = append(next, fresh...)
	} else {
		next, leaving = next[:n], next[n:]
	}
	return p.change(ctx, cur, next, leaving, nil)
}

// change moves the table cur to the members next, warm (see Resize), and
// removes the leaving nodes once drained; nothing is copied from the gone
// ones (nodes that stopped without the pool asking). resizeMu is held.
func (p *Pool) change(ctx context.Context, cur Table, next, leaving, gone []string) error {
	from, n := len(cur.Members), len(next)
	pt, err := partition.New(cur.Partitioner)
	if err != nil {
		return err
	}
	plan := planMove(pt, cur.Members, next)
	for _, g := range gone {
		delete(plan.outgoing, g)
	}
	// A destination may hold leftovers of these partitions from an earlier
	// table (a late set routed by it): they could be older than what the
	// move brings and than what later writers invalidate, so they go first.
	// Nothing routes these partitions there yet.
	if err := p.eachPartitionSet(ctx, pt, plan.incoming); err != nil {
		return fmt.Errorf("cache: clear partitions on their new owners: %w", err)
	}

	started := time.Now()
	moving := cur
	moving.Epoch, moving.Members, moving.Previous, moving.Updated = cur.Epoch+1, next, cur.Members, started
	if err := p.publish(ctx, cur.Epoch, moving); err != nil {
		return err
	}
	// Every process routes by the moving table before entries move, so no
	// invalidation can miss the copy on its way.
	if err := sleep(ctx, p.opts.Settle); err != nil {
		return err
	}
	// Entries move from each source's current namespace to their new
	// owner's, as of now. A value that goes stale on the source during the
	// move is stopped at the destination by the tombstone its writer left
	// there (invalidations go to both owners while the table moves), or,
	// if that writer could not reach the destination, retired with the
	// destination's raised fence.
	if err := p.refreshFences(ctx); err != nil {
		return err
	}
	fences := p.fences.Load().Fences
	report := p.move(ctx, pt, fences, plan, func(part int) string { return next[plan.newOwner[part]] })
	report.From, report.To = from, n
	final := moving
	final.Epoch, final.Previous, final.Updated = moving.Epoch+1, nil, time.Now()
	if err := p.publish(ctx, moving.Epoch, final); err != nil {
		return err
	}
	p.lastMove.Store(&report)
	p.log.Info("pool resized", "from", from, "to", n, "epoch", final.Epoch, "partitions_moved", report.Partitions,
		"entries", report.Entries, "bytes", report.Bytes, "stale", report.Stale, "failed", report.Failed,
		"copy", report.Took, "total", time.Since(started))
	// Once no process routes by the moving table, the old owners drop what
	// they gave away (a copy left behind would be stale by the time a later
	// table made its node the owner again) and leaving nodes stop.
	if err := sleep(ctx, p.opts.Settle); err != nil {
		return err
	}
	staying := map[string][]int{}
	for src, parts := range plan.outgoing {
		if !slices.Contains(leaving, src) {
			staying[src] = parts
		}
	}
	var errs []error
	if err := p.eachPartitionSet(ctx, pt, staying); err != nil {
		errs = append(errs, fmt.Errorf("cache: drop moved partitions from their old owners: %w", err))
	}
	for _, m := range leaving {
		if slices.Contains(gone, m) {
			continue // stopped already, and out of its provider
		}
		// Drained: what it holds is copied. Clearing it frees the memory of
		// a node that keeps running (a static node) and is only tidiness
		// for one about to stop, so a failure is logged.
		if err := p.client(m).Clear(ctx); err != nil {
			p.log.Warn("cache: could not clear a drained node", "node", m, "err", err)
		}
		if err := p.opts.Provider.Remove(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("cache: remove drained node %s: %w", m, err))
		}
	}
	return errors.Join(errs...)
}

// movePlan says which partitions change owner between two member lists.
type movePlan struct {
	newOwner []int            // per partition: index in the new members
	outgoing map[string][]int // old owner → partitions leaving it
	incoming map[string][]int // new owner → partitions coming to it
}

func planMove(pt partition.Partitioner, from, to []string) movePlan {
	oldOwner, newOwner := partition.Owners(pt, from), partition.Owners(pt, to)
	plan := movePlan{newOwner: newOwner, outgoing: map[string][]int{}, incoming: map[string][]int{}}
	for part := range oldOwner {
		if src, dst := from[oldOwner[part]], to[newOwner[part]]; src != dst {
			plan.outgoing[src] = append(plan.outgoing[src], part)
			plan.incoming[dst] = append(plan.incoming[dst], part)
		}
	}
	return plan
}

// eachPartitionSet drops the given partitions' items on each node.
func (p *Pool) eachPartitionSet(ctx context.Context, pt partition.Partitioner, parts map[string][]int) error {
	var nodes []string
	for m := range parts {
		nodes = append(nodes, m)
	}
	return p.eachMember(nodes, func(c *peer) error {
		_, err := c.DropPartitions(ctx, pt.Name(), parts[c.Addr()])
		return err
	})
}

// latest returns the published table, the one a change must build on.
func (p *Pool) latest(ctx context.Context) (Table, error) {
	t, err := p.opts.Tables.LoadTable(ctx)
	if err != nil {
		return Table{}, fmt.Errorf("cache: load pool table: %w", err)
	}
	if err := p.apply(t); err != nil {
		return Table{}, err
	}
	return t, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// streamsPerSource is how many partition streams each old owner serves at
// once during a move: one stream is a chain of handoffs (node, pool,
// node), and several in flight keep the copy from waiting on each hop.
const streamsPerSource = 4

// move copies every partition of the plan from its old owner to its new
// one: each old owner streams its outgoing partitions (split over a few
// concurrent streams), and the entries go to their new owners as
// versioned imports.
func (p *Pool) move(ctx context.Context, pt partition.Partitioner, fences Fences, plan movePlan, dst func(part int) string) MoveReport {
	var report MoveReport
	for _, parts := range plan.outgoing {
		report.Partitions += len(parts)
	}
	started := time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for src, all := range plan.outgoing {
		for k := range min(streamsPerSource, len(all)) {
			var parts []int
			for i := k; i < len(all); i += streamsPerSource {
				parts = append(parts, all[i])
			}
			wg.Go(func() {
				r := p.moveFrom(ctx, pt, fences, src, parts, dst)
				mu.Lock()
				report.Entries += r.Entries
				report.Bytes += r.Bytes
				report.Stale += r.Stale
				report.Failed += r.Failed
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	report.Took = time.Since(started)
	return report
}

// moveFrom streams src's given partitions into one import per new owner,
// each entry moved from src's namespace to its new owner's. Entries of
// older namespaces (retired by a fence) stay behind.
func (p *Pool) moveFrom(ctx context.Context, pt partition.Partitioner, fences Fences, src string, parts []int, dst func(part int) string) MoveReport {
	type sink struct {
		pw   *io.PipeWriter
		bw   *bufio.Writer
		sent int
		done chan node.ImportResult
	}
	sinks := map[string]*sink{}
	var report MoveReport
	open := func(addr string) *sink {
		if s, ok := sinks[addr]; ok {
			return s
		}
		pr, pw := io.Pipe()
		s := &sink{pw: pw, bw: bufio.NewWriterSize(pw, 256<<10), done: make(chan node.ImportResult, 1)}
		sinks[addr] = s
		go func() {
			res, err := p.client(addr).Import(ctx, pr)
			if err != nil {
				p.log.Warn("move entries: import failed", "to", addr, "err", err)
				pr.CloseWithError(err)
			}
			s.done <- res
		}()
		return s
	}
	err := p.client(src).Partitions(ctx, pt.Name(), parts, func(e node.Entry) error {
		k, ns, ok := nodekey.Parse(e.Key)
		if !ok || ns != fences.ns(src) {
			return nil
		}
		addr := dst(partition.OfHash(pt, k.Hash()))
		e.Key = k.In(fences.ns(addr))
		s := open(addr)
		if err := node.WriteEntry(s.bw, e); err != nil {
			return nil // that import failed; the others go on
		}
		if !e.Tombstone {
			s.sent++
			report.Bytes += int64(len(e.Value))
		}
		return nil
	})
	if err != nil {
		p.log.Warn("move entries: reading partitions failed", "from", src, "err", err)
	}
	for _, s := range sinks {
		s.pw.CloseWithError(s.bw.Flush())
		res := <-s.done
		report.Entries += res.Stored
		report.Stale += res.Stale
		report.Failed += s.sent - res.Stored - res.Stale
	}
	return report
}

// Configure applies a capacity and policy to every node, then publishes
// it in the table so that nodes that join later get it too.
func (p *Pool) Configure(ctx context.Context, cfg node.Config) error {
	if p.opts.Provider == nil {
		return ErrNotOwner
	}
	policy, ok := cache.CanonicalPolicy(cfg.Policy)
	if !ok {
		return fmt.Errorf("%w: unknown policy %q", node.ErrBadConfig, cfg.Policy)
	}
	if cfg.Capacity < 0 {
		return fmt.Errorf("%w: negative capacity %d", node.ErrBadConfig, cfg.Capacity)
	}
	cfg.Policy = policy
	p.resizeMu.Lock()
	defer p.resizeMu.Unlock()
	cur, err := p.latest(ctx)
	if err != nil {
		return err
	}
	if err := p.configureAll(ctx, cur.Members, cfg); err != nil {
		return err
	}
	next := cur
	next.Epoch, next.Config, next.Updated = cur.Epoch+1, cfg, time.Now()
	return p.publish(ctx, cur.Epoch, next)
}
