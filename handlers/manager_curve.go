package handlers

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/picpool/picpool/internal/bytesize"
	"github.com/picpool/picpool/scaling"
	"github.com/picpool/picpool/views"
)

// curveModel reads the "Miss rate by pool size" chart: the pool's
// predicted miss rate at 1 to 8 nodes of the current capacity (from its
// nodes' miss-ratio curves), its size and miss rate over the last minute,
// and the target while the target rule is in force. A curve that cannot
// be read leaves the chart without a prediction, and says why.
func (m *ManagerPages) curveModel(ctx context.Context) *views.CurveChart {
	c := &views.CurveChart{Nodes: m.pool.Nodes()}
	if w := m.pool.Window(ctx); w.Hits+w.Misses > 0 {
		c.MissRate, c.HasMissRate = float64(w.Misses)/float64(w.Hits+w.Misses), true
	}
	if st, err := m.control.State(ctx); err == nil && st.Settings.Rule == scaling.RuleTarget {
		c.Target = st.Settings.Target.MissRate
	}
	curve, capacity, err := m.control.Curve(ctx)
	switch {
	case err != nil:
		m.log.Warn("manager: read the pool's miss-ratio curve", "err", err)
		c.Note = "No prediction: the nodes' miss-ratio curves could not be read."
		return c
	case capacity <= 0:
		c.Note = "No prediction: the nodes have no capacity."
		return c
	}
	c.Predicted = scaling.Predict(curve, capacity)
	if slices.ContainsFunc(c.Predicted, math.IsNaN) {
		c.Note = "No prediction yet: the nodes have seen no requests in the last 10 minutes."
		return c
	}
	c.Note = fmt.Sprintf("Predicted for nodes of %d MB each, from the nodes' miss-ratio curves over the last 10 minutes.", capacity/bytesize.MiB)
	return c
}
