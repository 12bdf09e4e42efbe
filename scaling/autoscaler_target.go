package scaling

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
)

// aim takes the target rule's decision for d: from the pool's curve, the
// predicted miss rate of every size (d.Predicted), the size DecideTarget
// picks (d.Target) and why (d.Reason, which names the prediction). It
// returns why no decision could be taken, or "".
func (a *Autoscaler) aim(ctx context.Context, d *Decision, t Target) string {
	if a.curve == nil {
		return "the target rule needs the pool's miss-ratio curve, which this autoscaler was not given"
	}
	curve, capacity, err := a.curve(ctx)
	if err != nil {
		return "miss-ratio curve unavailable: " + err.Error()
	}
	if capacity <= 0 {
		return "the nodes have no capacity: no size can reach the target"
	}
	predicted := Predict(curve, capacity)
	if slices.ContainsFunc(predicted, math.IsNaN) {
		return "the miss-ratio curve has seen no requests yet"
	}
	d.Predicted = predicted
	d.Target = DecideTarget(d.Current, curve, capacity, t)
	at := func(n int) string { return fmt.Sprintf("%.3f at %s", predicted[n-1], nodesWord(n)) }
	switch {
	case d.Target > d.Current:
		d.Reason = fmt.Sprintf("target miss rate %g: predicted %s (measured %.3f), %s: grow from %d to %d nodes",
			t.MissRate, at(d.Current), d.MissRate, at(d.Target), d.Current, d.Target)
	case d.Target < d.Current:
		d.Reason = fmt.Sprintf("target miss rate %g: predicted %s, within %.3g (the target less its hysteresis): shrink from %d to %d nodes",
			t.MissRate, at(d.Target), t.MissRate*(1-t.Hysteresis), d.Current, d.Target)
	case predicted[d.Current-1] > t.MissRate:
		d.Reason = fmt.Sprintf("target miss rate %g: predicted %s, already at the maximum", t.MissRate, at(d.Current))
	default:
		d.Reason = fmt.Sprintf("target miss rate %g: predicted %s (measured %.3f), within it", t.MissRate, at(d.Current), d.MissRate)
		if d.Current > MinNodes {
			d.Reason += fmt.Sprintf("; %s does not allow a shrink", at(d.Current-1))
		}
	}
	return ""
}

// verb says which way a decision moves the pool.
func verb(d Decision) string {
	if d.Target < d.Current {
		return "shrink"
	}
	return "grow"
}

// nodesWord is "1 node", "4 nodes".
func nodesWord(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

// predictions formats a prediction by size for the log: "1:0.750 2:0.500 …".
func predictions(p []float64) string {
	parts := make([]string, len(p))
	for i, m := range p {
		parts[i] = fmt.Sprintf("%d:%.3f", i+1, m)
	}
	return strings.Join(parts, " ")
}
