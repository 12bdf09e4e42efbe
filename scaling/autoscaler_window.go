package scaling

import (
	"context"
	"fmt"
	"time"
)

// Which window a tick decides on, and the cooldown after a resize.

// TotalsReader is implemented by metrics backends that show data late
// (CloudWatch ingests datapoints one to a few minutes after they are
// put): it returns the pool's totals per step, with the number of node
// samples each comes from, in one read.
type TotalsReader interface {
	Totals(ctx context.Context, from, to time.Time, step time.Duration) ([]Point, error)
}

// window returns the window the tick that reads up to end decides on, or
// why there is none. With a plain backend it is [end-period, end), whose
// samples are all written by then. With a TotalsReader it is the newest
// of the last Lookback windows that is complete and was not decided on
// yet.
func (a *Autoscaler) window(ctx context.Context, end time.Time, nodes int) (Point, string) {
	if a.totals == nil {
		start := end.Add(-a.period)
		points, err := a.metrics.Series(ctx, start, end, a.period)
		if err != nil {
			return Point{}, "metrics unavailable: " + err.Error()
		}
		for _, p := range points {
			if p.Start.Equal(start) && p.Reported {
				return p, ""
			}
		}
		return Point{}, "no metrics for the period"
	}
	points, err := a.totals.Totals(ctx, end.Add(-time.Duration(a.lookback)*a.period), end, a.period)
	if err != nil {
		return Point{}, "metrics unavailable: " + err.Error()
	}
	want := int64(nodes) * a.samples
	newest := Point{Start: end.Add(-a.period)}
	if n := len(points); n > 0 {
		newest = points[n-1]
	}
	since := "yet"
	for i := len(points) - 1; i >= 0; i-- {
		p := points[i]
		if !a.lastWindow.IsZero() && !p.Start.After(a.lastWindow) {
			since = "since the one from " + a.lastWindow.Format(time.TimeOnly) + " decided on"
			break
		}
		if complete(p.Samples, want) {
			return p, ""
		}
	}
	return Point{}, fmt.Sprintf("no complete window %s: the one from %s has %d of the %d samples of %d node(s)",
		since, newest.Start.Format(time.TimeOnly), newest.Samples, want, nodes)
}

// complete reports whether a window with samples of want arrived whole:
// a sample or so per node may fall in the next window (publishing
// jitter), or be merged into a node's next one (a failed put, whose counts
// go out with the next), so a tenth short (at least one) still counts;
// a node missing altogether does not.
func complete(samples, want int64) bool {
	return samples > 0 && samples >= want-max(1, want/10)
}

// coolDown starts (or extends) a cooldown after a change of size that
// ended in the window ending at end: no decision on windows that start
// before Cooldown-1 periods after it.
func (a *Autoscaler) coolDown(end time.Time) {
	if a.cooldown == 0 {
		return
	}
	if q := end.Add(time.Duration(a.cooldown-1) * a.period); q.After(a.quietFrom) {
		a.quietFrom = q
	}
}

// ceilTime rounds t up to a multiple of d since the Unix epoch.
func ceilTime(t time.Time, d time.Duration) time.Time {
	f := floorTime(t, d)
	if f.Equal(t) {
		return t
	}
	return f.Add(d)
}

// periodEnd is the end of the window d was decided on; zero without one.
func periodEnd(d Decision, period time.Duration) time.Time {
	if d.PeriodStart.IsZero() {
		return time.Time{}
	}
	return d.PeriodStart.Add(period)
}
