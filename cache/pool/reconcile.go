package pool

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Reconcile makes the owner's table agree with its provider, for nodes
// that come and go without the pool asking: an Auto Scaling group that
// replaces an unhealthy instance or rebalances its zones terminates a
// serving node, and a grow that failed leaves instances the table does
// not know. Run calls it every ReconcileEvery; it waits for any resize in
// progress and keeps the next one waiting.
//
//   - Members the provider no longer lists are replaced, in one change of
//     the table as in a resize, by nodes it lists that the table does not
//     (the group's replacements, or what a failed grow left), waiting up
//     to MemberWait for them, so that the pool keeps its size; nothing is
//     copied from the gone nodes (their keys are misses until loaded
//     again). With no replacement by then, the gone nodes leave the table
//     alone, and the pool is smaller until the next resize.
//   - Then nodes the provider lists that the table does not use are
//     removed (Provider.Remove), so that none runs outside the pool.
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
		p.log.Warn("cache nodes gone without being removed (their instances terminated?); replacing them", "gone", gone)
		next, replaceErr := p.replace(ctx, cur, keep)
		if replaceErr != nil {
			if len(keep) == 0 {
				return fmt.Errorf("cache: reconcile: every node of the pool is gone: %w", replaceErr)
			}
			p.log.Warn("no replacement for the gone nodes serves yet; the pool goes on without them", "gone", gone, "err", replaceErr)
			next = keep
		}
		if err := p.change(ctx, cur, next, gone, gone); err != nil {
			return fmt.Errorf("cache: reconcile: replace gone nodes: %w", err)
		}
		if replaceErr != nil {
			return fmt.Errorf("cache: reconcile: no replacement for %v: %w", gone, replaceErr)
		}
	}
	return p.removeStrays(ctx)
}

// reconcileEvery runs Reconcile every ReconcileEvery until ctx is done;
// a round that fails is logged, and the next tries again.
func (p *Pool) reconcileEvery(ctx context.Context) {
	t := time.NewTicker(p.opts.ReconcileEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := p.Reconcile(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("could not reconcile the pool with its provider; trying again later", "err", err)
		}
	}
}

// replace returns keep and enough new nodes to make cur's size, waiting
// for the provider to list them and configuring them.
func (p *Pool) replace(ctx context.Context, cur Table, keep []string) ([]string, error) {
	size := len(cur.Members)
	if err := p.opts.Provider.SetSize(ctx, size); err != nil {
		return nil, fmt.Errorf("ask for %d nodes: %w", size, err)
	}
	members, err := p.waitMembers(ctx, size)
	if err != nil {
		return nil, err
	}
	var fresh []string
	for _, m := range members {
		if !slices.Contains(cur.Members, m) && len(keep)+len(fresh) < size {
			fresh = append(fresh, m)
		}
	}
	if len(keep)+len(fresh) < size {
		return nil, fmt.Errorf("%d of the %d nodes asked for serve", len(keep)+len(fresh), size)
	}
	if err := p.configureNew(ctx, fresh, cur.Config); err != nil {
		return nil, err
	}
	return append(slices.Clone(keep), fresh...), nil
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
