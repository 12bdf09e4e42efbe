package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/scaling"
	"github.com/picpool/picpool/store"
	"github.com/picpool/picpool/store/storetest"
)

var noon = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// at returns noon plus minutes and seconds.
func at(min, sec float64) time.Time {
	return noon.Add(time.Duration(min*float64(time.Minute) + sec*float64(time.Second)))
}

func sample(node string, t time.Time, items, bytes, req, hits, misses int64) scaling.Sample {
	return scaling.Sample{Node: node, Time: t, Items: items, Bytes: bytes, Requests: req, Hits: hits, Misses: misses}
}

func TestMetricsMinutes(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			m := store.NewMetrics(storetest.OpenDB(t, kind), nil)
			m.SetClock(func() time.Time { return noon.Add(time.Hour) })
			paris, err := time.LoadLocation("Europe/Paris")
			if err != nil {
				t.Fatal(err)
			}
			samples := []scaling.Sample{
				sample("a", at(-1, 59), 99, 999, 9, 9, 0), // before the range
				// Minute 0: a twice (its last sample counts for items and
				// bytes), b once; the counts add up over all three.
				sample("a", at(0, 5), 10, 100, 5, 3, 2),
				sample("b", at(0, 30), 7, 70, 1, 0, 1),
				sample("a", at(0, 55), 12, 120, 4, 4, 0),
				// Minute 1: nothing. Minute 2: b at the very start
				// (recorded in another time zone), a just before the end.
				sample("b", at(2, 0).In(paris), 8, 80, 6, 5, 1),
				sample("a", at(2, 59.999999), 13, 130, 2, 1, 1),
				// Minute 3: three nodes, b's samples out of order.
				sample("b", at(3, 50), 9, 90, 1, 1, 0),
				sample("b", at(3, 10), 1, 10, 1, 0, 1),
				sample("c", at(3, 20), 3, 30, 0, 0, 0),
				sample("a", at(3, 40), 14, 140, 10, 5, 5),
				// Minute 4: nothing. Then the end of the range.
				sample("a", at(5, 0), 99, 999, 9, 9, 0),
			}
			// In two calls, as nodes publish.
			if err := m.Record(ctx, samples[:6]); err != nil {
				t.Fatal(err)
			}
			if err := m.Record(ctx, samples[6:]); err != nil {
				t.Fatal(err)
			}
			if err := m.Record(ctx, nil); err != nil {
				t.Fatalf("Record(nil): %v", err)
			}
			want := []scaling.Point{
				{Start: at(0, 0), Reported: true, Nodes: 2, Items: 12 + 7, Bytes: 120 + 70, Requests: 10, Hits: 7, Misses: 3},
				{Start: at(1, 0)},
				{Start: at(2, 0), Reported: true, Nodes: 2, Items: 8 + 13, Bytes: 80 + 130, Requests: 8, Hits: 6, Misses: 2},
				{Start: at(3, 0), Reported: true, Nodes: 3, Items: 9 + 3 + 14, Bytes: 90 + 30 + 140, Requests: 12, Hits: 6, Misses: 6},
				{Start: at(4, 0)},
			}
			tests := []struct {
				name     string
				from, to time.Time
				want     []scaling.Point
			}{
				{"whole minutes", at(0, 0), at(5, 0), want},
				{"truncated to the minute", at(0, 30), at(5, 45), want},
				{"one minute", at(3, 0), at(4, 0), want[3:4]},
				{"only gaps", at(-30, 0), at(-28, 0), []scaling.Point{{Start: at(-30, 0)}, {Start: at(-29, 0)}}},
				{"empty range", at(3, 0), at(3, 59), []scaling.Point{}},
				{"reversed range", at(4, 0), at(3, 0), []scaling.Point{}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := m.Series(ctx, tt.from, tt.to, time.Minute)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("Series(%s, %s) (-want +got):\n%s", tt.from.Format(time.TimeOnly), tt.to.Format(time.TimeOnly), diff)
					}
				})
			}
			if _, err := m.Series(ctx, noon, noon.Add(8*24*time.Hour), time.Minute); err == nil {
				t.Error("Series over 8 days succeeded, want a refusal")
			}
			// The autoscaler asks for its own period: 30 s halves minute 0.
			got, err := m.Series(ctx, at(0, 10), at(1, 0), 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			halves := []scaling.Point{
				{Start: at(0, 0), Reported: true, Nodes: 1, Items: 10, Bytes: 100, Requests: 5, Hits: 3, Misses: 2},
				{Start: at(0, 30), Reported: true, Nodes: 2, Items: 12 + 7, Bytes: 120 + 70, Requests: 5, Hits: 4, Misses: 1},
			}
			if diff := cmp.Diff(halves, got); diff != "" {
				t.Errorf("Series with a 30 s step (-want +got):\n%s", diff)
			}
			if _, err := m.Series(ctx, noon, noon.Add(time.Minute), 1500*time.Millisecond); err == nil {
				t.Error("Series with a 1.5 s step succeeded, want a refusal")
			}
		})
	}
}

// TestMetricsPrune checks that samples older than a day go, from Record at
// most once a minute, and from Prune.
func TestMetricsPrune(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			m := store.NewMetrics(storetest.OpenDB(t, kind), nil)
			now := noon
			m.SetClock(func() time.Time { return now })
			reported := func(from time.Time) bool {
				t.Helper()
				ms, err := m.Series(ctx, from, from.Add(time.Minute), time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				return ms[0].Reported
			}
			old, recent := noon.Add(-25*time.Hour), noon.Add(-time.Hour)
			if err := m.Record(ctx, []scaling.Sample{sample("a", old, 1, 1, 1, 1, 0), sample("a", recent, 1, 1, 1, 1, 0)}); err != nil {
				t.Fatal(err)
			}
			if reported(old) || !reported(recent) {
				t.Fatalf("after the first Record: old sample kept %v, recent kept %v; want false, true", reported(old), reported(recent))
			}
			// 30 s later: no prune yet, so an old sample stays.
			now = noon.Add(30 * time.Second)
			if err := m.Record(ctx, []scaling.Sample{sample("a", old, 1, 1, 1, 1, 0)}); err != nil {
				t.Fatal(err)
			}
			if !reported(old) {
				t.Error("Record pruned twice within a minute")
			}
			// A minute after the first prune: pruned again.
			now = noon.Add(time.Minute)
			if err := m.Record(ctx, nil); err != nil {
				t.Fatal(err)
			}
			if reported(old) || !reported(recent) {
				t.Errorf("a minute later: old sample kept %v, recent kept %v; want false, true", reported(old), reported(recent))
			}
			if err := m.Prune(ctx, noon); err != nil {
				t.Fatal(err)
			}
			if reported(recent) {
				t.Error("Prune(noon) kept a sample from 11:00")
			}
		})
	}
}
