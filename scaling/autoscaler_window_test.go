package scaling

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fakeTotals is a metrics backend that shows data late, as CloudWatch
// does: its Totals answer from the test's function.
type fakeTotals struct {
	fakeMetrics
	totals func(from, to time.Time, step time.Duration) ([]Point, error)
}

func (f fakeTotals) Totals(_ context.Context, from, to time.Time, step time.Duration) ([]Point, error) {
	return f.totals(from, to, step)
}

// TestAutoscalerDecidesOnCompleteWindows runs the autoscaler over a
// backend whose windows arrive whole two periods after they end: each
// tick reads the last five windows in one call, decides on the newest
// complete one it has not decided on, and skips, saying why, while there
// is none; a window with a node's samples missing is never decided on.
// (The pool cannot grow here, so that the windows' node count stays.)
func TestAutoscalerDecidesOnCompleteWindows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const nodes, perNode = 2, 12 // 60 s of samples every 5 s
		p := &pool{n: nodes, err: errors.New("no capacity")}
		var reads []string
		totals := func(from, to time.Time, step time.Duration) ([]Point, error) {
			reads = append(reads, from.Format("15:04")+"-"+to.Format("15:04")+" "+step.String())
			var out []Point
			for w := from; w.Before(to); w = w.Add(step) {
				pt := Point{Start: w}
				switch {
				case w.Before(minute(0)): // before the pool ran
				case w.Equal(minute(2)): // a node lost: half the samples, ever
					pt = lookups(w, 100, 90)
					pt.Samples = perNode
				case !time.Now().Before(w.Add(3 * step)): // arrived whole
					pt = lookups(w, 100, 90)
					pt.Samples = nodes * perNode
				default: // half arrived
					pt = lookups(w, 50, 90)
					pt.Samples = nodes * perNode / 2
				}
				out = append(out, pt)
			}
			return out, nil
		}
		a, err := NewAutoscaler(AutoscalerConfig{
			Pool:     p.resizer(),
			Metrics:  fakeTotals{totals: totals},
			Settings: settingsOf(Settings{Mode: Auto, Policy: DefaultPolicy()}),
			Cooldown: -1,
		})
		if err != nil {
			t.Fatal(err)
		}
		got := runTicks(t, a, 6)
		failed := func(w int) Decision {
			return Decision{PeriodStart: minute(w), Mode: Auto, Current: 2, Target: 4, Requests: 103, Lookups: 100, Misses: 90,
				MissRate: 0.9, Samples: nodes * perNode, Outcome: OutcomeFailed, Reason: "miss rate 0.900, grow from 2 to 4 nodes: no capacity"}
		}
		want := []Decision{
			skippedNoData(2, "no complete window yet: the one from 00:00:00 has 12 of the 24 samples of 2 node(s)"), // 00:01:10
			skippedNoData(2, "no complete window yet: the one from 00:01:00 has 12 of the 24 samples of 2 node(s)"), // 00:02:10
			failed(0), // 00:03:10: minute 0 arrived whole
			failed(1), // 00:04:10: minute 1 whole; minute 2 lacks a node
			skippedNoData(2, "no complete window since the one from 00:01:00 decided on: the one from 00:04:00 has 12 of the 24 samples of 2 node(s)"),
			failed(3), // 00:06:10: minute 3 whole
		}
		if diff := cmp.Diff(want, got, ignoreTimes, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
			t.Errorf("decisions mismatch (-want +got):\n%s", diff)
		}
		wantReads := []string{"23:56-00:01 1m0s", "23:57-00:02 1m0s", "23:58-00:03 1m0s", "23:59-00:04 1m0s", "00:00-00:05 1m0s", "00:01-00:06 1m0s"}
		if diff := cmp.Diff(wantReads, reads); diff != "" {
			t.Errorf("Totals reads mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestComplete(t *testing.T) {
	for _, tt := range []struct {
		samples, want int64
		ok            bool
	}{
		{0, 0, false},
		{12, 12, true},
		{11, 12, true},  // one late, or merged into the next
		{10, 12, false}, // two
		{5, 5, true},
		{4, 5, true},
		{3, 5, false},
		{96, 96, true},
		{87, 96, true},  // a tenth short
		{84, 96, false}, // a node of 8 missing
		{13, 12, true},
	} {
		if got := complete(tt.samples, tt.want); got != tt.ok {
			t.Errorf("complete(%d, %d) = %v, want %v", tt.samples, tt.want, got, tt.ok)
		}
	}
}
