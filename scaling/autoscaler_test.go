package scaling

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fakeResizer is a Resizer whose behaviour the test writes.
type fakeResizer struct {
	nodes  func() int
	resize func(ctx context.Context, n int) error
}

func (f fakeResizer) Nodes() int                              { return f.nodes() }
func (f fakeResizer) Resize(ctx context.Context, n int) error { return f.resize(ctx, n) }

// fakeMetrics is a Metrics whose behaviour the test writes.
type fakeMetrics struct {
	record func(ctx context.Context, samples []Sample) error
	series func(ctx context.Context, from, to time.Time, step time.Duration) ([]Point, error)
}

func (f fakeMetrics) Record(ctx context.Context, s []Sample) error { return f.record(ctx, s) }
func (f fakeMetrics) Series(ctx context.Context, from, to time.Time, step time.Duration) ([]Point, error) {
	return f.series(ctx, from, to, step)
}

// pool is the state behind a fakeResizer: a size, and the sizes asked for.
type pool struct {
	mu      sync.Mutex
	n       int
	resizes []int
	err     error // returned by Resize, which then leaves n alone
}

func (p *pool) resizer() fakeResizer {
	return fakeResizer{
		nodes: func() int { p.mu.Lock(); defer p.mu.Unlock(); return p.n },
		resize: func(_ context.Context, n int) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.resizes = append(p.resizes, n)
			if p.err != nil {
				return p.err
			}
			p.n = n
			return nil
		},
	}
}

// lookups is a period's point with the given lookups and miss rate in
// percent, as the metrics backend would return it.
func lookups(start time.Time, n, missPercent int64) Point {
	m := n * missPercent / 100
	return Point{Start: start, Reported: true, Nodes: 1, Requests: n + 3, Hits: n - m, Misses: m}
}

// t0 is where a synctest bubble's clock starts.
var t0 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// minute returns the start of the i-th minute after t0.
func minute(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

// runTicks runs a for ticks periods of 60 s (with its default delay of
// 10 s) inside the current synctest bubble, then stops it and returns its
// history. It starts a at 00:00:15, past the read time of the window that
// ended at 00:00:00, so the first tick is at 00:01:10 and reads minute 0.
func runTicks(t *testing.T, a *Autoscaler, ticks int) []Decision {
	t.Helper()
	time.Sleep(15 * time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	// The last wanted tick is at 00:ticks:10.
	time.Sleep(time.Duration(ticks)*time.Minute - 5*time.Second)
	synctest.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v, want nil", err)
	}
	return a.History()
}

// ignoreTimes leaves out of comparisons what the table rows would only
// repeat: when each tick ran, and the policy (always the one the row set).
var ignoreTimes = cmpopts.IgnoreFields(Decision{}, "Time", "Policy", "Rule", "MissTarget") // the rule and its values: TestAutoscalerTargetRule

func TestAutoscalerTicks(t *testing.T) {
	auto := Settings{Mode: Auto, Policy: DefaultPolicy()}
	manual := Settings{Mode: Manual, Policy: DefaultPolicy()}
	errMetrics := errors.New("metrics down")

	tests := []struct {
		name     string
		start    int                                           // the pool's size
		settings func(tick int) (Settings, error)              // tick counts from 1
		points   func(t *testing.T, tick int) ([]Point, error) // the window of tick i is minute(i-1)
		resize   error                                         // what Resize returns
		cfg      func(*AutoscalerConfig)                       // changes to the default config
		want     []Decision                                    // one per tick
		resizes  []int                                         // sizes asked of the pool
		ticks    int
	}{
		{
			name:  "grows while the miss rate is high, with a cooldown of two periods after each resize",
			start: 1, ticks: 7,
			settings: always(auto),
			points:   func(t *testing.T, i int) ([]Point, error) { return []Point{lookups(minute(i-1), 100, 90)}, nil },
			want: []Decision{
				resized(1, 2, minute(0), 100, 90, "miss rate 0.900, grow from 1 to 2 nodes"),
				skipped(2, minute(1), 100, 90, "cooldown after a resize: 1 more period(s)"),
				skipped(2, minute(2), 100, 90, "cooldown after a resize: 0 more period(s)"),
				resized(2, 4, minute(3), 100, 90, "miss rate 0.900, grow from 2 to 4 nodes"),
				skipped(4, minute(4), 100, 90, "cooldown after a resize: 1 more period(s)"),
				skipped(4, minute(5), 100, 90, "cooldown after a resize: 0 more period(s)"),
				resized(4, 8, minute(6), 100, 90, "miss rate 0.900, grow from 4 to 8 nodes"),
			},
			resizes: []int{2, 4, 8},
		},
		{
			name:  "holds at the maximum, and between the thresholds",
			start: 8, ticks: 2,
			settings: always(auto),
			points: func(t *testing.T, i int) ([]Point, error) {
				return []Point{lookups(minute(i-1), 100, []int64{0, 90, 30}[i])}, nil
			},
			want: []Decision{
				held(8, minute(0), 100, 90, "miss rate 0.900 above 0.5, already at the maximum of 8 nodes"),
				held(8, minute(1), 100, 30, "miss rate 0.300 within [0.2, 0.5]"),
			},
		},
		{
			name:  "shrinks when the miss rate is low, and holds at the minimum",
			start: 2, ticks: 4,
			settings: always(auto),
			points:   func(t *testing.T, i int) ([]Point, error) { return []Point{lookups(minute(i-1), 50, 10)}, nil },
			cfg:      func(c *AutoscalerConfig) { c.Cooldown = -1 },
			want: []Decision{
				resized(2, 1, minute(0), 50, 10, "miss rate 0.100, shrink from 2 to 1 nodes"),
				held(1, minute(1), 50, 10, "miss rate 0.100 below 0.2, already at the minimum of 1 node(s)"),
				held(1, minute(2), 50, 10, "miss rate 0.100 below 0.2, already at the minimum of 1 node(s)"),
				held(1, minute(3), 50, 10, "miss rate 0.100 below 0.2, already at the minimum of 1 node(s)"),
			},
			resizes: []int{1},
		},
		{
			name:  "no decision below the request floor, nor on a missing or empty period",
			start: 4, ticks: 5,
			settings: always(auto),
			points: func(t *testing.T, i int) ([]Point, error) {
				switch i {
				case 1:
					return []Point{lookups(minute(0), 19, 100)}, nil // one below the floor of 20
				case 2:
					return []Point{{Start: minute(1)}}, nil // not reported
				case 3:
					return nil, nil // no point at all
				case 4:
					return []Point{{Start: minute(3), Reported: true, Nodes: 4, Requests: 7}}, nil // only writes
				default:
					return []Point{lookups(minute(4), 20, 100)}, nil // at the floor: decides
				}
			},
			want: []Decision{
				skipped(4, minute(0), 19, 100, "too few lookups: 19, fewer than 20"),
				skippedNoData(4, "no metrics for the period"),
				skippedNoData(4, "no metrics for the period"),
				{PeriodStart: minute(3), Mode: Auto, Current: 4, Target: 4, Requests: 7, Outcome: OutcomeSkipped, Reason: "no lookups in the period"},
				resized(4, 8, minute(4), 20, 100, "miss rate 1.000, grow from 4 to 8 nodes"),
			},
			resizes: []int{8},
		},
		{
			name:  "manual mode does nothing; a switch to auto applies on the next tick",
			start: 1, ticks: 3,
			settings: func(i int) (Settings, error) {
				if i < 3 {
					return manual, nil
				}
				return auto, nil
			},
			points: func(t *testing.T, i int) ([]Point, error) {
				if i < 3 {
					t.Errorf("tick %d read metrics in manual mode", i)
				}
				return []Point{lookups(minute(i-1), 100, 90)}, nil
			},
			want: []Decision{
				{Mode: Manual, Current: 1, Target: 1, Outcome: OutcomeSkipped, Reason: "manual mode"},
				{Mode: Manual, Current: 1, Target: 1, Outcome: OutcomeSkipped, Reason: "manual mode"},
				resized(1, 2, minute(2), 100, 90, "miss rate 0.900, grow from 1 to 2 nodes"),
			},
			resizes: []int{2},
		},
		{
			name:  "a policy change applies on the next tick",
			start: 4, ticks: 2,
			settings: func(i int) (Settings, error) {
				s := auto
				if i == 2 {
					s.Policy.MaxMissRate = 0.25 // 30 % is now above the maximum
				}
				return s, nil
			},
			points: func(t *testing.T, i int) ([]Point, error) { return []Point{lookups(minute(i-1), 100, 30)}, nil },
			want: []Decision{
				held(4, minute(0), 100, 30, "miss rate 0.300 within [0.2, 0.5]"),
				resized(4, 8, minute(1), 100, 30, "miss rate 0.300, grow from 4 to 8 nodes"),
			},
			resizes: []int{8},
		},
		{
			name:  "errors and invalid settings skip the tick and the loop goes on",
			start: 2, ticks: 4,
			settings: func(i int) (Settings, error) {
				switch i {
				case 1:
					return Settings{}, errors.New("database down")
				case 2:
					bad := auto
					bad.Policy.ExpandRatio = 1
					return bad, nil
				case 3:
					return Settings{Mode: "sideways"}, nil
				}
				return auto, nil
			},
			points: func(t *testing.T, i int) ([]Point, error) {
				if i < 4 {
					t.Errorf("tick %d read metrics without valid settings", i)
				}
				return nil, errMetrics
			},
			want: []Decision{
				{Current: 2, Target: 2, Outcome: OutcomeSkipped, Reason: "settings unavailable: database down"},
				{Mode: Auto, Current: 2, Target: 2, Outcome: OutcomeSkipped, Reason: "scaling: invalid policy: The expand ratio must be greater than 1; got 1."},
				{Mode: "sideways", Current: 2, Target: 2, Outcome: OutcomeSkipped, Reason: `unknown mode "sideways"`},
				{Mode: Auto, Current: 2, Target: 2, Outcome: OutcomeSkipped, Reason: "metrics unavailable: metrics down"},
			},
		},
		{
			name:  "a failed resize is recorded, and starts a cooldown",
			start: 2, ticks: 4,
			settings: always(auto),
			points:   func(t *testing.T, i int) ([]Point, error) { return []Point{lookups(minute(i-1), 100, 5)}, nil },
			resize:   errors.New("node 3 unreachable"),
			want: []Decision{
				{PeriodStart: minute(0), Mode: Auto, Current: 2, Target: 1, Requests: 103, Lookups: 100, Misses: 5, MissRate: 0.05,
					Outcome: OutcomeFailed, Reason: "miss rate 0.050, shrink from 2 to 1 nodes: node 3 unreachable"},
				skipped(2, minute(1), 100, 5, "cooldown after a resize: 1 more period(s)"),
				skipped(2, minute(2), 100, 5, "cooldown after a resize: 0 more period(s)"),
				{PeriodStart: minute(3), Mode: Auto, Current: 2, Target: 1, Requests: 103, Lookups: 100, Misses: 5, MissRate: 0.05,
					Outcome: OutcomeFailed, Reason: "miss rate 0.050, shrink from 2 to 1 nodes: node 3 unreachable"},
			},
			resizes: []int{1, 1},
		},
		{
			name:  "cooldown of one period",
			start: 1, ticks: 3,
			settings: always(auto),
			points:   func(t *testing.T, i int) ([]Point, error) { return []Point{lookups(minute(i-1), 100, 90)}, nil },
			cfg:      func(c *AutoscalerConfig) { c.Cooldown = 1 },
			want: []Decision{
				resized(1, 2, minute(0), 100, 90, "miss rate 0.900, grow from 1 to 2 nodes"),
				skipped(2, minute(1), 100, 90, "cooldown after a resize: 0 more period(s)"),
				resized(2, 4, minute(2), 100, 90, "miss rate 0.900, grow from 2 to 4 nodes"),
			},
			resizes: []int{2, 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &pool{n: tt.start, err: tt.resize}
				var tick int // counted by Settings, which every tick reads first
				cfg := AutoscalerConfig{
					Pool: p.resizer(),
					Metrics: fakeMetrics{series: func(_ context.Context, from, to time.Time, step time.Duration) ([]Point, error) {
						if !from.Equal(minute(tick-1)) || !to.Equal(minute(tick)) || step != time.Minute {
							t.Errorf("tick %d read Series(%v, %v, %v), want Series(%v, %v, 1m0s)",
								tick, from, to, step, minute(tick-1), minute(tick))
						}
						return tt.points(t, tick)
					}},
					Settings: func(context.Context) (Settings, error) {
						tick++
						if now, want := time.Now(), minute(tick).Add(10*time.Second); !now.Equal(want) {
							t.Errorf("tick %d ran at %v, want %v", tick, now, want)
						}
						return tt.settings(tick)
					},
				}
				if tt.cfg != nil {
					tt.cfg(&cfg)
				}
				a, err := NewAutoscaler(cfg)
				if err != nil {
					t.Fatal(err)
				}
				got := runTicks(t, a, tt.ticks)
				if diff := cmp.Diff(tt.want, got, ignoreTimes, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
					t.Errorf("decisions mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.resizes, p.resizes); diff != "" {
					t.Errorf("resizes mismatch (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func always(s Settings) func(int) (Settings, error) {
	return func(int) (Settings, error) { return s, nil }
}

// resized, held and skipped build the rows of TestAutoscalerTicks for
// ticks in automatic mode that read a period of n lookups (plus 3 other
// requests) with the given miss rate in percent.
func resized(current, target int, start time.Time, n, missPercent int64, reason string) Decision {
	d := read(current, start, n, missPercent, reason)
	d.Target, d.Outcome = target, OutcomeResized
	return d
}

func held(current int, start time.Time, n, missPercent int64, reason string) Decision {
	d := read(current, start, n, missPercent, reason)
	d.Outcome = OutcomeHeld
	return d
}

func skipped(current int, start time.Time, n, missPercent int64, reason string) Decision {
	d := read(current, start, n, missPercent, reason)
	d.Outcome = OutcomeSkipped
	return d
}

func skippedNoData(current int, reason string) Decision {
	return Decision{Mode: Auto, Current: current, Target: current, Outcome: OutcomeSkipped, Reason: reason}
}

func read(current int, start time.Time, n, missPercent int64, reason string) Decision {
	m := n * missPercent / 100
	return Decision{
		PeriodStart: start, Mode: Auto, Current: current, Target: current,
		Requests: n + 3, Lookups: n, Misses: m, MissRate: float64(m) / float64(n), Reason: reason,
	}
}

// TestAutoscalerLogsEachDecision checks that every tick leaves one log
// record carrying the decision's inputs, not only its outcome.
func TestAutoscalerLogsEachDecision(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		p := &pool{n: 2}
		a, err := NewAutoscaler(AutoscalerConfig{
			Pool: p.resizer(),
			Metrics: fakeMetrics{series: func(_ context.Context, from, _ time.Time, _ time.Duration) ([]Point, error) {
				return []Point{lookups(from, 200, 60)}, nil
			}},
			Settings: settingsOf(Settings{Mode: Auto, Policy: DefaultPolicy()}),
			Log:      slog.New(slog.NewJSONHandler(&buf, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		runTicks(t, a, 2)

		type policy struct {
			MaxMiss     float64 `json:"max_miss"`
			MinMiss     float64 `json:"min_miss"`
			ExpandRatio float64 `json:"expand_ratio"`
			ShrinkRatio float64 `json:"shrink_ratio"`
			MinRequests int64   `json:"min_requests"`
		}
		type record struct {
			Level       string    `json:"level"`
			Msg         string    `json:"msg"`
			Outcome     string    `json:"outcome"`
			Reason      string    `json:"reason"`
			Mode        string    `json:"mode"`
			Current     int       `json:"current"`
			Target      int       `json:"target"`
			PeriodStart time.Time `json:"period_start"`
			PeriodEnd   time.Time `json:"period_end"`
			Requests    int64     `json:"requests"`
			Lookups     int64     `json:"lookups"`
			Misses      int64     `json:"misses"`
			MissRate    float64   `json:"miss_rate"`
			Policy      policy    `json:"policy"`
		}
		var got []record
		dec := json.NewDecoder(&buf)
		for dec.More() {
			var r record
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("log output: %v", err)
			}
			got = append(got, r)
		}
		pol := policy{MaxMiss: 0.5, MinMiss: 0.2, ExpandRatio: 2, ShrinkRatio: 0.5, MinRequests: 20}
		want := []record{
			{Level: "INFO", Msg: "autoscaler decision", Outcome: "resized", Reason: "miss rate 0.600, grow from 2 to 4 nodes", Mode: "auto",
				Current: 2, Target: 4, PeriodStart: minute(0), PeriodEnd: minute(1), Requests: 203, Lookups: 200, Misses: 120, MissRate: 0.6, Policy: pol},
			{Level: "INFO", Msg: "autoscaler decision", Outcome: "skipped", Reason: "cooldown after a resize: 1 more period(s)", Mode: "auto",
				Current: 4, Target: 4, PeriodStart: minute(1), PeriodEnd: minute(2), Requests: 203, Lookups: 200, Misses: 120, MissRate: 0.6, Policy: pol},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("log records mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestAutoscalerOutsideResize checks that a size the autoscaler did not
// set (the operator resized by hand) starts a cooldown.
func TestAutoscalerOutsideResize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &pool{n: 4}
		a, err := NewAutoscaler(AutoscalerConfig{
			Pool: p.resizer(),
			Metrics: fakeMetrics{series: func(_ context.Context, from, _ time.Time, _ time.Duration) ([]Point, error) {
				if from.Equal(minute(0)) { // the operator resizes during the first period
					p.mu.Lock()
					p.n = 1
					p.mu.Unlock()
				}
				return []Point{lookups(from, 100, 30)}, nil
			}},
			Settings: settingsOf(Settings{Mode: Auto, Policy: DefaultPolicy()}),
			Cooldown: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		got := runTicks(t, a, 3)
		want := []Decision{
			held(4, minute(0), 100, 30, "miss rate 0.300 within [0.2, 0.5]"),
			skipped(1, minute(1), 100, 30, "cooldown after a resize: 0 more period(s)"),
			held(1, minute(2), 100, 30, "miss rate 0.300 within [0.2, 0.5]"),
		}
		// The first row read Nodes before the operator's resize.
		if diff := cmp.Diff(want, got, ignoreTimes); diff != "" {
			t.Errorf("decisions mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestAutoscalerShortPeriod runs the loop with a 2 s period, as the
// acceptance test does: ticks fall on 2 s boundaries plus the default
// delay of a sixth of the period, and each reads its own 2 s window.
func TestAutoscalerShortPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(1500 * time.Millisecond) // start off a boundary: 00:00:01.5
		var calls []string
		a, err := NewAutoscaler(AutoscalerConfig{
			Pool: (&pool{n: 1}).resizer(),
			Metrics: fakeMetrics{series: func(_ context.Context, from, to time.Time, step time.Duration) ([]Point, error) {
				calls = append(calls, time.Now().Format("05.000")+" "+from.Format("05")+"-"+to.Format("05")+" "+step.String())
				return nil, nil
			}},
			Settings: settingsOf(Settings{Mode: Auto, Policy: DefaultPolicy()}),
			Period:   2 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- a.Run(ctx) }()
		time.Sleep(6 * time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
		// 2 s / 6 = 333.333333 ms of delay.
		want := []string{"02.333 00-02 2s", "04.333 02-04 2s", "06.333 04-06 2s"}
		if diff := cmp.Diff(want, calls); diff != "" {
			t.Errorf("Series calls (time, window, step) mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestAutoscalerHistoryKeepsTheLatest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, err := NewAutoscaler(AutoscalerConfig{
			Pool:     (&pool{n: 3}).resizer(),
			Metrics:  fakeMetrics{},
			Settings: settingsOf(Settings{Mode: Manual}),
			History:  3,
		})
		if err != nil {
			t.Fatal(err)
		}
		got := runTicks(t, a, 5)
		var times []time.Time
		for _, d := range got {
			times = append(times, d.Time)
		}
		// Ticks 3, 4 and 5 of 5, oldest first.
		want := []time.Time{minute(3).Add(10 * time.Second), minute(4).Add(10 * time.Second), minute(5).Add(10 * time.Second)}
		if diff := cmp.Diff(want, times); diff != "" {
			t.Errorf("History() times mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestAutoscalerOnDecision(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen []Outcome
		a, err := NewAutoscaler(AutoscalerConfig{
			Pool:       (&pool{n: 3}).resizer(),
			Metrics:    fakeMetrics{},
			Settings:   settingsOf(Settings{Mode: Manual}),
			OnDecision: func(d Decision) { seen = append(seen, d.Outcome) },
		})
		if err != nil {
			t.Fatal(err)
		}
		runTicks(t, a, 2)
		if diff := cmp.Diff([]Outcome{OutcomeSkipped, OutcomeSkipped}, seen); diff != "" {
			t.Errorf("OnDecision outcomes mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestNewAutoscalerChecksConfig(t *testing.T) {
	ok := AutoscalerConfig{
		Pool:     (&pool{n: 1}).resizer(),
		Metrics:  fakeMetrics{},
		Settings: settingsOf(Settings{Mode: Manual}),
	}
	tests := []struct {
		name string
		edit func(*AutoscalerConfig)
		want string // "" for no error
	}{
		{"defaults", func(*AutoscalerConfig) {}, ""},
		{"no pool", func(c *AutoscalerConfig) { c.Pool = nil }, "scaling: autoscaler: no pool"},
		{"no metrics", func(c *AutoscalerConfig) { c.Metrics = nil }, "scaling: autoscaler: no metrics backend"},
		{"no settings", func(c *AutoscalerConfig) { c.Settings = nil }, "scaling: autoscaler: no settings source"},
		{"negative period", func(c *AutoscalerConfig) { c.Period = -time.Second }, "scaling: autoscaler: negative period -1s"},
		{"delay as long as the period", func(c *AutoscalerConfig) { c.Period, c.Delay = time.Second, time.Second },
			"scaling: autoscaler: delay 1s must be in [0, period 1s)"},
		{"negative delay", func(c *AutoscalerConfig) { c.Delay = -time.Second },
			"scaling: autoscaler: delay -1s must be in [0, period 1m0s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			_, err := NewAutoscaler(cfg)
			if got := errString(err); got != tt.want {
				t.Errorf("NewAutoscaler() error = %q, want %q", got, tt.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// settingsOf returns a settings source that always returns s.
func settingsOf(s Settings) func(context.Context) (Settings, error) {
	return func(context.Context) (Settings, error) { return s, nil }
}
