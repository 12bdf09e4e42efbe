// Package scaling decides the size of the cache pool and carries it out:
// the pure decision (Decide), the control loop that applies it every
// period, and the AWS adapters (CloudWatch metrics, the EC2 Auto Scaling
// pool provider). It drives the pool only through the Resizer interface it
// declares here, and never imports package cache.
package scaling

import (
	"context"
	"time"
)

// MinNodes and MaxNodes bound the pool's size, by hand or automatically.
const (
	MinNodes = 1
	MaxNodes = 8
)

// Resizer is what the autoscaler needs of the pool: its size, and a way to
// change it. The cache pool satisfies it; main passes it in.
type Resizer interface {
	// Nodes returns the number of nodes the pool routes to now.
	Nodes() int
	// Resize grows or shrinks the pool to n nodes, moving cached entries
	// warm, and returns when routing uses the new size.
	Resize(ctx context.Context, n int) error
}

// Mode says who sizes the pool.
type Mode string

const (
	// Manual: the operator resizes the pool from the manager.
	Manual Mode = "manual"
	// Auto: the autoscaler resizes it from the miss rate.
	Auto Mode = "auto"
)

// Policy is the automatic mode's rule: above MaxMissRate grow by
// ExpandRatio, below MinMissRate shrink by ShrinkRatio.
type Policy struct {
	MaxMissRate float64 // grow above this miss rate; 0 <= MinMissRate < MaxMissRate <= 1
	MinMissRate float64 // shrink below this miss rate
	ExpandRatio float64 // > 1: the new size is ceil(size × ExpandRatio)
	ShrinkRatio float64 // in (0, 1): the new size is floor(size × ShrinkRatio), at least one less
	// MinRequests is the fewest lookups a minute must have for its miss
	// rate to mean anything; with fewer, no decision is taken.
	MinRequests int64
}

// Settings is how the pool is sized: the mode, and the rule the
// autoscaler follows in automatic mode with each rule's values. The
// manager saves them; the autoscaler reads them every period, so changes
// apply without a restart. Validate is their one check.
type Settings struct {
	Mode   Mode
	Rule   Rule   // RuleRatios ("" reads as it) or RuleTarget
	Policy Policy // RuleRatios' thresholds and ratios, and the request floor of both rules
	Target Target // RuleTarget's miss rate and hysteresis
}

// Sample is one cache node's statistics for one publishing interval (5 s):
// Items and Bytes are what it held at the end, Requests, Hits and Misses
// are counts during the interval (not running totals), so that summing
// samples over any window gives that window's counts.
type Sample struct {
	Node     string    // the node's address, as the pool table lists it
	Time     time.Time // end of the interval
	Items    int64
	Bytes    int64
	Requests int64 // every request the node served
	Hits     int64 // lookups that found the key
	Misses   int64 // lookups that did not
}

// Point is the pool's aggregate over one interval [Start, Start+step):
// a minute for the charts, one autoscaler period for its decisions.
// Reported is false for an interval with no samples at all: charts draw it
// as a gap, and the autoscaler takes no decision from it.
type Point struct {
	Start    time.Time
	Reported bool
	Nodes    int   // distinct nodes that reported in the interval
	Items    int64 // sum over nodes of each node's last value in the interval
	Bytes    int64 // likewise
	Requests int64 // sums of the samples' counts
	Hits     int64
	Misses   int64
	// Samples is how many node samples the sums come from, where the
	// backend counts them (Totals does; Series leaves it 0): with a
	// backend that shows data late, the autoscaler tells a complete
	// interval from one whose samples have not all arrived.
	Samples int64
}

// MissRate is Misses / (Hits + Misses), computed from the sums (never an
// average of per-node rates), and false when there was no lookup.
func (p Point) MissRate() (float64, bool) {
	if p.Hits+p.Misses == 0 {
		return 0, false
	}
	return float64(p.Misses) / float64(p.Hits+p.Misses), true
}

// Metrics is a metrics backend: nodes record samples into it, and the
// charts and the autoscaler read the pool's aggregates from it. The
// embedded backend (store) keeps samples in the database; the AWS one
// (CloudWatch, here) keeps them in CloudWatch.
type Metrics interface {
	Record(ctx context.Context, samples []Sample) error
	// Series returns one Point per step in [from, to), from and to
	// truncated to a multiple of step (since the Unix epoch), oldest
	// first; intervals without samples have Reported false. The charts ask
	// for 1-minute steps; the autoscaler for its period.
	Series(ctx context.Context, from, to time.Time, step time.Duration) ([]Point, error)
}
