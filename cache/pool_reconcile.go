package cache

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Reconcile makes the owner's table agree with its provider, for nodes
// that come and go without the pool asking: an Auto Scaling group that
// replaces an unhealthy instance or rebalances its zones terminates a
// serving node, and a grow that failed leaves instances the table does
// not know. Run it every so often (main does, for the asg provider); it
// waits for any resize in progress and keeps the next one waiting.
//
//   - Members the provider no longer lists leave the table, through a
//     moving table as in a resize but with nothing copied from them (what
//     they held is lost: their keys are misses until loaded again), and
//     the pool grows back to its size from the nodes the provider lists.
//   - Then nodes the provider lists that the table does not are removed
//     (Provider.Remove), so that none runs outside the pool.
func (p *Pool) Reconcile(ctx context.Context) error {
	if p.opts.Provider == nil {
		return ErrNotOwner
	}
	p.resizeMu.Lock()
	defer p.resizeMu.Unlock()
	cur, err := p.latest(ctx)
	if err != nil {
		return err
	}
	members, err := p.opts.Provider.Members(ctx)
	if err != nil {
		return fmt.Errorf("cache: reconcile: list pool members: %w", err)
	}
	var keep, gone []string
	for _, m := range cur.Members {
		if slices.Contains(members, m) {
			keep = append(keep, m)
		} else {
			gone = append(gone, m)
		}
	}
	if len(gone) > 0 {
		size := len(cur.Members)
		p.log.Warn("cache nodes gone without being removed (their instances terminated?); dropping them from the pool and growing it back",
			"gone", gone, "size", size)
		if len(keep) == 0 { // the table needs a member: the first that serves
			fresh := slices.DeleteFunc(slices.Clone(members), func(m string) bool { return slices.Contains(cur.Members, m) })
			if len(fresh) == 0 {
				return errors.New("cache: reconcile: every node of the pool is gone, and no other serves yet")
			}
			if err := p.configureNew(ctx, fresh[:1], cur.Config); err != nil {
				return err
			}
			keep = fresh[:1]
		}
		if err := p.change(ctx, cur, keep, gone, gone); err != nil {
			return fmt.Errorf("cache: reconcile: drop gone nodes: %w", err)
		}
		if err := p.resize(ctx, size); err != nil {
			return fmt.Errorf("cache: reconcile: grow back to %d nodes: %w", size, err)
		}
	}
	return p.removeStrays(ctx)
}

// removeStrays removes the nodes the provider lists that the table does
// not use.
func (p *Pool) removeStrays(ctx context.Context) error {
	t := p.route.Load().table
	members, err := p.opts.Provider.Members(ctx)
	if err != nil {
		return fmt.Errorf("cache: reconcile: list pool members: %w", err)
	}
	var errs []error
	for _, m := range members {
		if slices.Contains(t.Members, m) || slices.Contains(t.Previous, m) {
			continue
		}
		p.log.Info("removing a node the pool does not use (left by a grow that failed?)", "node", m)
		if err := p.opts.Provider.Remove(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("cache: reconcile: remove unused node %s: %w", m, err))
		}
	}
	return errors.Join(errs...)
}
