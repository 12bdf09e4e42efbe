package gallery

import (
	"context"
	"errors"
	"fmt"

	"github.com/picpool/picpool/cache/mrc"
	"github.com/picpool/picpool/scaling"
)

// curvePool is a pool that reads its miss-ratio curve from its nodes: the
// owner's cache pool.
type curvePool interface {
	Curve(ctx context.Context) (mrc.Curve, error)
}

// ErrNoCurve is what Curve returns for a pool that cannot read its
// nodes' curves.
var ErrNoCurve = errors.New("gallery: this pool does not read its nodes' miss-ratio curves")

// Curve returns the pool's miss-ratio curve and the capacity of each
// node in bytes: what the autoscaler's target rule sizes the pool from
// (it is a scaling.CurveFunc) and the manager's chart draws.
func (c *Control) Curve(ctx context.Context) (scaling.PoolCurve, int64, error) {
	cp, ok := c.pool.(curvePool)
	if !ok {
		return nil, 0, ErrNoCurve
	}
	cv, err := cp.Curve(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("gallery: %w", err)
	}
	return cv, c.pool.Table().Config.Capacity, nil
}
