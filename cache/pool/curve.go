package pool

import (
	"context"
	"fmt"
	"sync"

	"github.com/picpool/picpool/cache/mrc"
)

// Curve returns the pool's miss-ratio curve: its members' curves (GET
// /v1/curve), combined (mrc.Combine). Every member must answer: without
// one node's traffic the pool's curve would be the others', and the
// prediction of a size wrong by as much as that node's share.
func (p *Pool) Curve(ctx context.Context) (mrc.Curve, error) {
	members := p.route.Load().table.Members
	curves := make([]mrc.Curve, len(members))
	errs := make([]error, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() { curves[i], errs[i] = p.client(m).Curve(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return mrc.Curve{}, fmt.Errorf("cache: pool curve: node %s: %w", members[i], err)
		}
	}
	return mrc.Combine(curves...), nil
}
