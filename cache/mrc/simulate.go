package mrc

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/picpool/picpool/cache/sim"
)

// Simulate is `picpool simulate`: the exact replay of the trace at each
// capacity (sim.RunOn), then each policy's miss-ratio curve of the same
// trace, as a node would keep it (a Recorder of that capacity and policy,
// with its memory bound and sampling), beside the exact miss ratio at
// each capacity, with the error between them. Both count every request
// (the curve has no warm-up to leave out).
func Simulate(o sim.Options, out io.Writer) error {
	trace, err := o.Requests()
	if err != nil {
		return err
	}
	if err := sim.RunOn(o, trace, out); err != nil {
		return err
	}
	policies, err := o.CanonicalPolicies()
	if err != nil {
		return err
	}
	formatSize := o.SizeFormatter()
	fmt.Fprintln(out, "miss-ratio curve (as a node keeps it) against the exact simulation, every request counted:")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tcapacity\texact miss ratio\tcurve\terror\tcurve memory\t")
	for _, policy := range policies {
		var sum float64
		for _, c := range o.Capacities {
			res, err := sim.Simulate([]string{policy}, c, trace, 0)
			if err != nil {
				return err
			}
			exact := 1 - res[0].HitRatio()
			predicted, memory, err := TraceMissRatio(policy, c, trace)
			if err != nil {
				return err
			}
			sum += math.Abs(predicted - exact)
			fmt.Fprintf(tw, "%s\t%s\t%.4f\t%.4f\t%+.4f\t%s\t\n", policy, formatSize(c), exact, predicted, predicted-exact, formatSize(memory))
		}
		if n := len(o.Capacities); n > 1 {
			fmt.Fprintf(tw, "%s\tmean absolute error\t\t\t%.4f\t\t\n", policy, sum/float64(n))
		}
	}
	tw.Flush()
	fmt.Fprintln(out)
	return nil
}

// TraceMissRatio records the trace on a Recorder for a node of the given
// policy and capacity, all in one window, and returns its curve's miss
// ratio at that capacity and the bytes the Recorder held.
func TraceMissRatio(policy string, capacity int64, trace []sim.Request) (float64, int64, error) {
	at := time.Unix(0, 0)
	r, err := New(Options{Policy: policy, Capacity: capacity, Seed: 1, Now: func() time.Time { return at }})
	if err != nil {
		return 0, 0, err
	}
	for _, q := range trace {
		r.Record(q.Key, int64(q.Size))
	}
	return r.Curve().MissRatio(capacity), r.Memory(), nil
}
