package scaling

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// bySize is a PoolCurve that predicts a given miss rate for each size.
type bySize []float64

func (b bySize) PoolMissRatio(nodes int, _ int64) float64 { return b[nodes-1] }

// TestAutoscalerTargetRule: under the target rule the autoscaler moves
// the pool in one resize to the smallest size the curve predicts within
// the target, holds there, shrinks only below the hysteresis, keeps the
// cooldown, and skips a tick whose curve it cannot read. Every decision
// names the prediction, and so does its log line.
func TestAutoscalerTargetRule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		high := bySize{0.8, 0.6, 0.4, 0.2, 0.05, 0.04, 0.03, 0.02}
		low := bySize{0.3, 0.07, 0.05, 0.04, 0.03, 0.02, 0.02, 0.02}
		var mu sync.Mutex
		curve, curveErr := high, error(nil)
		p := &pool{n: 1}
		var logs bytes.Buffer
		target := Target{MissRate: 0.1, Hysteresis: 0.2}
		a, err := NewAutoscaler(AutoscalerConfig{
			Pool: p.resizer(),
			Metrics: fakeMetrics{series: func(_ context.Context, from, _ time.Time, _ time.Duration) ([]Point, error) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case from.Equal(minute(0)):
					return []Point{lookups(from, 100, 80)}, nil
				case from.Equal(minute(3)):
					curve = low
				case from.Equal(minute(5)):
					curveErr = errors.New("node 10.0.0.1:5100: refused")
				}
				return []Point{lookups(from, 100, 5)}, nil
			}},
			Curve: func(context.Context) (PoolCurve, int64, error) {
				mu.Lock()
				defer mu.Unlock()
				return curve, 1 << 20, curveErr
			},
			Settings: settingsOf(Settings{Mode: Auto, Rule: RuleTarget, Policy: DefaultPolicy(), Target: target}),
			Cooldown: 1,
			Log:      slog.New(slog.NewTextHandler(&logs, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		got := runTicks(t, a, 6)
		rule := func(d Decision, predicted []float64) Decision {
			d.Rule, d.MissTarget, d.Predicted = RuleTarget, target, predicted
			return d
		}
		want := []Decision{
			rule(resized(1, 5, minute(0), 100, 80, "target miss rate 0.1: predicted 0.800 at 1 node (measured 0.800), 0.050 at 5 nodes: grow from 1 to 5 nodes"), high),
			rule(skipped(5, minute(1), 100, 5, "cooldown after a resize: 0 more period(s)"), nil),
			rule(held(5, minute(2), 100, 5, "target miss rate 0.1: predicted 0.050 at 5 nodes (measured 0.050), within it; 0.200 at 4 nodes does not allow a shrink"), high),
			rule(resized(5, 2, minute(3), 100, 5, "target miss rate 0.1: predicted 0.070 at 2 nodes, within 0.08 (the target less its hysteresis): shrink from 5 to 2 nodes"), low),
			rule(skipped(2, minute(4), 100, 5, "cooldown after a resize: 0 more period(s)"), nil),
			rule(skipped(2, minute(5), 100, 5, "miss-ratio curve unavailable: node 10.0.0.1:5100: refused"), nil),
		}
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Decision{}, "Time", "Policy"), cmpopts.EquateApprox(0, 1e-9)); diff != "" {
			t.Errorf("decisions mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int{5, 2}, p.resizes); diff != "" {
			t.Errorf("resizes mismatch (-want +got):\n%s", diff)
		}
		for _, line := range []string{
			"rule=target",
			"target_rule.miss_rate=0.1",
			`target_rule.predicted_by_size="1:0.800 2:0.600 3:0.400 4:0.200 5:0.050 6:0.040 7:0.030 8:0.020"`,
		} {
			if !strings.Contains(logs.String(), line) {
				t.Errorf("the decision log has no %s:\n%s", line, logs.String())
			}
		}
	})
}

// TestAutoscalerTargetRuleWithoutCurve: the target rule with no curve
// source, or a curve that saw no requests, takes no decision.
func TestAutoscalerTargetRuleWithoutCurve(t *testing.T) {
	for _, tt := range []struct {
		name   string
		curve  CurveFunc
		reason string
	}{
		{"no source", nil, "the target rule needs the pool's miss-ratio curve, which this autoscaler was not given"},
		{"no requests", func(context.Context) (PoolCurve, int64, error) {
			return bySize{math.NaN(), 0, 0, 0, 0, 0, 0, 0}, 1 << 20, nil
		},
			"the miss-ratio curve has seen no requests yet"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &pool{n: 2}
				a, err := NewAutoscaler(AutoscalerConfig{
					Pool: p.resizer(),
					Metrics: fakeMetrics{series: func(_ context.Context, from, _ time.Time, _ time.Duration) ([]Point, error) {
						return []Point{lookups(from, 100, 80)}, nil
					}},
					Curve:    tt.curve,
					Settings: settingsOf(Settings{Mode: Auto, Rule: RuleTarget, Policy: DefaultPolicy(), Target: DefaultTarget()}),
				})
				if err != nil {
					t.Fatal(err)
				}
				got := runTicks(t, a, 1)
				if len(got) != 1 || got[0].Outcome != OutcomeSkipped || got[0].Reason != tt.reason || len(p.resizes) != 0 {
					t.Errorf("decisions %+v, resizes %v; want one skipped: %q, none", got, p.resizes, tt.reason)
				}
			})
		})
	}
}
