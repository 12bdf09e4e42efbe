package main

import (
	"context"
	"time"
)

// reconcileLoop is the owner's check of its pool against an Auto Scaling
// group (see cache.Pool.Reconcile): every so often, nodes the group
// terminated by itself leave the table and are replaced, and instances the
// table does not use are removed. It returns nil when ctx is done.
func (s *system) reconcileLoop(every time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			if err := s.pool.Reconcile(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("could not reconcile the pool with its Auto Scaling group; trying again later", "err", err)
			}
		}
	}
}

// ownerLoops are the loops an owner of the pool runs beside its servers.
func (s *system) ownerLoops(pf poolFlags) []func(context.Context) error {
	fns := []func(context.Context) error{func(ctx context.Context) error { s.pool.Run(ctx); return nil }}
	if s.asg != nil {
		fns = append(fns, s.reconcileLoop(*pf.reconcileEvery))
	}
	return fns
}
