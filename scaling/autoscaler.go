package scaling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"time"
)

// AutoscalerConfig configures NewAutoscaler. Zero values take the defaults
// given with each field.
type AutoscalerConfig struct {
	// Pool is the pool to size. Required.
	Pool Resizer
	// Metrics is where the nodes' statistics are read from. Required.
	Metrics Metrics
	// Settings returns the current mode and policy. Required. It is read
	// every period, so that the manager's changes apply on the next tick,
	// without a restart.
	Settings func(context.Context) (Settings, error)
	// Curve returns the pool's miss-ratio curve and the capacity of each
	// node in bytes, for the target rule (RuleTarget). Optional: without
	// it, ticks under that rule take no decision.
	Curve CurveFunc

	// Period is how often the autoscaler decides, and the length of the
	// metrics window each decision reads. Default 60 s; tests shorten it.
	// Ticks fall on multiples of Period since the Unix epoch (plus Delay),
	// so that each window is one Series step.
	Period time.Duration
	// Delay is how long after a period ends its window is read, so that
	// the nodes' last samples of the period (published every 5 s) have
	// reached the metrics backend. Default Period/6 (10 s for 60 s); it
	// must be shorter than Period.
	Delay time.Duration
	// Cooldown is how many periods after a resize pass without a decision,
	// because their miss rates reflect the resize (cold new nodes, moved
	// partitions), not the load: the first window decided on starts
	// Cooldown-1 periods after the one in which the resize ended. Default
	// 2; a negative value means none. A change of size the autoscaler did
	// not make (the operator's, the pool's repair of a lost node) starts a
	// cooldown too.
	Cooldown int
	// SampleEvery is how often the nodes publish a sample (their
	// StatsInterval), and Lookback how many periods back the autoscaler
	// looks for a complete window, with a backend that shows data late
	// (a TotalsReader, CloudWatch): each tick decides on the newest window
	// not decided on yet that has (nearly) every sample its nodes
	// published, Period/SampleEvery per node. Defaults 5 s and 5.
	SampleEvery time.Duration
	Lookback    int
	// History is how many decisions History keeps. Default 1440 (a day of
	// 1-minute periods).
	History int
	// Log receives one record per decision, with its inputs. Default:
	// discarded.
	Log *slog.Logger
	// OnDecision, if set, is called with each decision after it is
	// recorded, outside any lock (the AWS acceptance test follows the
	// pool's size through it; the load generator does not: it polls
	// getNumNodes over the API). It must not block for long: the next tick
	// waits.
	OnDecision func(Decision)
}

// CurveFunc returns the pool's miss-ratio curve (its owner combines its
// nodes' curves) and the capacity of each node in bytes.
type CurveFunc func(ctx context.Context) (PoolCurve, int64, error)

// StepChecker is implemented by metrics backends that cannot aggregate by
// every step (CloudWatch): NewAutoscaler refuses a period they cannot
// serve.
type StepChecker interface {
	CheckStep(step time.Duration) error
}

// Defaults of AutoscalerConfig.
const (
	DefaultPeriod      = 60 * time.Second
	DefaultCooldown    = 2
	DefaultHistory     = 1440
	DefaultSampleEvery = 5 * time.Second // cache.DefaultStatsInterval, which this package may not import
	DefaultLookback    = 5
)

// Outcome says what came of one tick of the autoscaler.
type Outcome string

const (
	// OutcomeSkipped: no decision was taken (manual mode, no usable
	// metrics, too few lookups, an invalid policy, or a cooldown).
	OutcomeSkipped Outcome = "skipped"
	// OutcomeHeld: the policy keeps the current size.
	OutcomeHeld Outcome = "held"
	// OutcomeResized: the pool was resized to Target.
	OutcomeResized Outcome = "resized"
	// OutcomeFailed: the policy asked for Target, and the resize failed.
	OutcomeFailed Outcome = "failed"
)

// Decision is the record of one tick: what the autoscaler read, what it
// decided, and why. The manager page lists them; the AWS acceptance test
// follows the pool's size and miss rate through them (OnDecision).
type Decision struct {
	Time        time.Time // when the tick ran
	PeriodStart time.Time // start of the metrics window read; zero when none was read
	Mode        Mode      // from the settings; empty when they could not be read
	Rule        Rule      // automatic mode's rule at the tick
	Policy      Policy    // the ratios in force at the tick (and the request floor)
	MissTarget  Target    // the target rule's values at the tick
	Predicted   []float64 // under the target rule, the curve's miss rate of 1 to MaxNodes nodes (element i: i+1 nodes); nil otherwise
	Current     int       // the pool's size before the decision
	Target      int       // the size decided; Current unless Outcome is resized or failed
	Requests    int64     // every request the nodes served in the window
	Lookups     int64     // hits + misses in the window: what the request floor counts
	Misses      int64     // misses in the window
	MissRate    float64   // Misses / Lookups; 0 when there was no lookup
	Samples     int64     // node samples the window's sums come from; 0 where the backend does not count them
	Outcome     Outcome
	Reason      string // why, in words, for the manager page and the log
}

// Autoscaler sizes the pool from its miss rate, once every period, while
// the settings say automatic mode. Create it with NewAutoscaler, run it with
// Run; History may be called concurrently with Run.
type Autoscaler struct {
	pool     Resizer
	metrics  Metrics
	settings func(context.Context) (Settings, error)
	curve    CurveFunc
	period   time.Duration
	delay    time.Duration
	cooldown int
	log      *slog.Logger
	notify   func(Decision)
	totals   TotalsReader // the metrics backend, when it counts samples
	samples  int64        // samples a node publishes per period
	lookback int

	// Loop state, touched by Run's goroutine only.
	quietFrom  time.Time // windows starting before it reflect a resize: no decision on them
	lastWindow time.Time // start of the last window decided on
	lastSize   int       // the pool's size after the previous tick; 0 before the first

	mu      sync.Mutex
	history []Decision // ring of at most histCap; once full, the oldest is at histN % histCap
	histCap int
	histN   int               // decisions recorded so far
	counts  map[Outcome]int64 // decisions by outcome since start
}

// NewAutoscaler checks cfg, fills in its defaults and returns an autoscaler
// ready to Run.
func NewAutoscaler(cfg AutoscalerConfig) (*Autoscaler, error) {
	switch {
	case cfg.Pool == nil:
		return nil, errors.New("scaling: autoscaler: no pool")
	case cfg.Metrics == nil:
		return nil, errors.New("scaling: autoscaler: no metrics backend")
	case cfg.Settings == nil:
		return nil, errors.New("scaling: autoscaler: no settings source")
	case cfg.Period < 0:
		return nil, fmt.Errorf("scaling: autoscaler: negative period %v", cfg.Period)
	}
	a := &Autoscaler{
		pool:     cfg.Pool,
		metrics:  cfg.Metrics,
		settings: cfg.Settings,
		curve:    cfg.Curve,
		period:   cfg.Period,
		delay:    cfg.Delay,
		cooldown: cfg.Cooldown,
		log:      cfg.Log,
		notify:   cfg.OnDecision,
		histCap:  cfg.History,
	}
	if a.period == 0 {
		a.period = DefaultPeriod
	}
	if a.delay == 0 {
		a.delay = a.period / 6
	}
	if a.delay < 0 || a.delay >= a.period {
		return nil, fmt.Errorf("scaling: autoscaler: delay %v must be in [0, period %v)", a.delay, a.period)
	}
	if sc, ok := a.metrics.(StepChecker); ok {
		if err := sc.CheckStep(a.period); err != nil {
			return nil, fmt.Errorf("scaling: autoscaler: period %v: %w", a.period, err)
		}
	}
	switch {
	case a.cooldown == 0:
		a.cooldown = DefaultCooldown
	case a.cooldown < 0:
		a.cooldown = 0
	}
	if a.histCap <= 0 {
		a.histCap = DefaultHistory
	}
	sampleEvery := cmpOr(cfg.SampleEvery, DefaultSampleEvery)
	a.samples = max(int64(a.period/sampleEvery), 1)
	a.lookback = max(cfg.Lookback, 0)
	if a.lookback == 0 {
		a.lookback = DefaultLookback
	}
	a.totals, _ = a.metrics.(TotalsReader)
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return a, nil
}

// Run decides once per period until ctx is done, and then returns nil.
// Errors of one tick (settings, metrics, resize) are recorded as that
// tick's decision and logged; they do not stop the loop.
func (a *Autoscaler) Run(ctx context.Context) error {
	for {
		// The next window to read ends at the first period boundary whose
		// read time (boundary + delay) is still ahead.
		end := floorTime(time.Now().Add(-a.delay), a.period).Add(a.period)
		timer := time.NewTimer(time.Until(end.Add(a.delay)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
		a.tick(ctx, end)
	}
}

// History returns the decisions kept, oldest first.
func (a *Autoscaler) History() []Decision {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.histN <= a.histCap {
		return append([]Decision(nil), a.history...)
	}
	next := a.histN % a.histCap // the oldest entry, about to be overwritten
	return append(append([]Decision(nil), a.history[next:]...), a.history[:next]...)
}

// tick takes the decision for the window [end-period, end).
func (a *Autoscaler) tick(ctx context.Context, end time.Time) {
	d := a.decide(ctx, end)
	a.record(d)
	a.logDecision(ctx, d)
	if a.notify != nil {
		a.notify(d)
	}
}

// decide runs one tick's logic and returns its record.
func (a *Autoscaler) decide(ctx context.Context, end time.Time) Decision {
	d := Decision{Time: time.Now(), Current: a.pool.Nodes()}
	d.Target = d.Current

	// A size the autoscaler did not set means someone resized the pool:
	// the next windows reflect that resize, so they get a cooldown too.
	if a.lastSize != 0 && d.Current != a.lastSize {
		a.coolDown(end)
	}
	a.lastSize = d.Current

	readCtx, cancel := context.WithTimeout(ctx, a.period)
	defer cancel()
	s, err := a.settings(readCtx)
	if err != nil {
		return skip(d, "settings unavailable: "+err.Error())
	}
	s = s.WithDefaults()
	d.Mode, d.Rule, d.Policy, d.MissTarget = s.Mode, s.Rule, s.Policy, s.Target
	switch s.Mode {
	case Auto:
	case Manual:
		return skip(d, "manual mode")
	default:
		return skip(d, fmt.Sprintf("unknown mode %q", s.Mode))
	}
	if err := s.Validate(); err != nil {
		return skip(d, err.Error())
	}

	p, why := a.window(readCtx, end, d.Current)
	if why != "" {
		return skip(d, why)
	}
	d.PeriodStart = p.Start
	d.Requests, d.Lookups, d.Misses, d.Samples = p.Requests, p.Hits+p.Misses, p.Misses, p.Samples
	rate, ok := p.MissRate()
	if !ok {
		return skip(d, "no lookups in the period")
	}
	d.MissRate = rate
	if d.Lookups < s.Policy.MinRequests {
		return skip(d, fmt.Sprintf("too few lookups: %d, fewer than %d", d.Lookups, s.Policy.MinRequests))
	}
	if p.Start.Before(a.quietFrom) {
		more := int(a.quietFrom.Sub(p.Start)/a.period) - 1
		return skip(d, fmt.Sprintf("cooldown after a resize: %d more period(s)", more))
	}
	a.lastWindow = p.Start

	if s.Rule == RuleTarget {
		if why := a.aim(readCtx, &d, s.Target); why != "" {
			return skip(d, why)
		}
	} else {
		d.Target = Decide(d.Current, rate, d.Lookups, s.Policy)
		d.Reason = holdReason(d.Current, rate, s.Policy)
		if d.Target != d.Current {
			d.Reason = fmt.Sprintf("miss rate %.3f, %s from %d to %d nodes", rate, verb(d), d.Current, d.Target)
		}
	}
	if d.Target == d.Current {
		d.Outcome = OutcomeHeld
		return d
	}
	err = a.pool.Resize(ctx, d.Target)
	// Whatever the outcome, the windows ahead are disturbed by what moved:
	// up to the one in which the resize ended.
	a.coolDown(ceilTime(time.Now(), a.period))
	a.lastSize = a.pool.Nodes()
	if err != nil {
		d.Outcome = OutcomeFailed
		d.Reason += ": " + err.Error()
		return d
	}
	d.Outcome = OutcomeResized
	return d
}

// skip marks d as a tick without a decision, for the given reason.
func skip(d Decision, reason string) Decision {
	d.Outcome, d.Reason = OutcomeSkipped, reason
	return d
}

// holdReason says why Decide kept the size n.
func holdReason(n int, rate float64, p Policy) string {
	switch {
	case rate > p.MaxMissRate:
		return fmt.Sprintf("miss rate %.3f above %g, already at the maximum of %d nodes", rate, p.MaxMissRate, n)
	case rate < p.MinMissRate:
		return fmt.Sprintf("miss rate %.3f below %g, already at the minimum of %d node(s)", rate, p.MinMissRate, n)
	default:
		return fmt.Sprintf("miss rate %.3f within [%g, %g]", rate, p.MinMissRate, p.MaxMissRate)
	}
}

// record appends d to the history ring.
func (a *Autoscaler) record(d Decision) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.history) < a.histCap {
		a.history = append(a.history, d)
	} else {
		a.history[a.histN%a.histCap] = d
	}
	a.histN++
	if a.counts == nil {
		a.counts = map[Outcome]int64{}
	}
	a.counts[d.Outcome]++
}

// Counts returns how many decisions of each outcome were taken since the
// autoscaler started (the manager's /metrics exports them).
func (a *Autoscaler) Counts() map[Outcome]int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.counts)
}

// logDecision writes d with every input it was taken from. Manual-mode
// ticks log at debug level: they repeat every period and say nothing new.
func (a *Autoscaler) logDecision(ctx context.Context, d Decision) {
	level := slog.LevelInfo
	switch {
	case d.Outcome == OutcomeFailed:
		level = slog.LevelError
	case d.Outcome == OutcomeSkipped && d.Mode == Manual:
		level = slog.LevelDebug
	}
	a.log.LogAttrs(ctx, level, "autoscaler decision",
		slog.String("outcome", string(d.Outcome)),
		slog.String("reason", d.Reason),
		slog.String("mode", string(d.Mode)),
		slog.String("rule", string(d.Rule)),
		slog.Int("current", d.Current),
		slog.Int("target", d.Target),
		slog.Time("period_start", d.PeriodStart),
		slog.Time("period_end", periodEnd(d, a.period)),
		slog.Int64("samples", d.Samples),
		slog.Int64("requests", d.Requests),
		slog.Int64("lookups", d.Lookups),
		slog.Int64("misses", d.Misses),
		slog.Float64("miss_rate", d.MissRate),
		slog.Group("policy",
			slog.Float64("max_miss", d.Policy.MaxMissRate),
			slog.Float64("min_miss", d.Policy.MinMissRate),
			slog.Float64("expand_ratio", d.Policy.ExpandRatio),
			slog.Float64("shrink_ratio", d.Policy.ShrinkRatio),
			slog.Int64("min_requests", d.Policy.MinRequests),
		),
		slog.Group("target_rule",
			slog.Float64("miss_rate", d.MissTarget.MissRate),
			slog.Float64("hysteresis", d.MissTarget.Hysteresis),
			slog.String("predicted_by_size", predictions(d.Predicted)),
		),
	)
}

// floorTime rounds t down to a multiple of d since the Unix epoch (not
// since Go's zero time, as time.Truncate does: the two differ for periods
// that do not divide a day), which is how Series aligns its steps.
func floorTime(t time.Time, d time.Duration) time.Time {
	ns := t.UnixNano()
	r := ns % int64(d)
	if r < 0 {
		r += int64(d)
	}
	return time.Unix(0, ns-r).In(t.Location())
}
