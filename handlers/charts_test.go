package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/scaling"
	"github.com/picpool/picpool/views"
)

// The statistics: Charts turns per-minute points into six charts, and
// GET /stats and /stats/live chart the last 30 minutes from the metrics
// backend, one point a minute, gaps where no node reported.

// chartIDs are the six charts, in page order.
var chartIDs = []string{"nodes", "miss-rate", "hit-rate", "items", "size", "requests"}

func TestChartsFromKnownPoints(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	points := []scaling.Point{
		// reported, with lookups: a quarter missed; 3 MiB
		{Start: at(0), Reported: true, Nodes: 2, Items: 40, Bytes: 3 << 20, Requests: 130, Hits: 75, Misses: 25},
		// no samples at all: a gap everywhere
		{Start: at(1)},
		// reported but no lookup: a gap in the two rates only
		{Start: at(2), Reported: true, Nodes: 1, Items: 0, Bytes: 0, Requests: 4},
		// every lookup missed; 1.5 MiB
		{Start: at(3), Reported: true, Nodes: 8, Items: 7, Bytes: 3 << 19, Requests: 9, Misses: 9},
	}
	got := Charts(points)
	want := []views.Chart{
		{ID: "nodes", Title: "Nodes", Unit: "nodes", Points: []views.ChartPoint{
			{Time: at(0), Value: 2, Present: true}, {Time: at(1)}, {Time: at(2), Value: 1, Present: true}, {Time: at(3), Value: 8, Present: true}}},
		{ID: "miss-rate", Title: "Miss rate", Unit: "%", Points: []views.ChartPoint{
			{Time: at(0), Value: 25, Present: true}, {Time: at(1)}, {Time: at(2)}, {Time: at(3), Value: 100, Present: true}}},
		{ID: "hit-rate", Title: "Hit rate", Unit: "%", Points: []views.ChartPoint{
			{Time: at(0), Value: 75, Present: true}, {Time: at(1)}, {Time: at(2)}, {Time: at(3), Value: 0, Present: true}}},
		{ID: "items", Title: "Items", Unit: "items", Points: []views.ChartPoint{
			{Time: at(0), Value: 40, Present: true}, {Time: at(1)}, {Time: at(2), Value: 0, Present: true}, {Time: at(3), Value: 7, Present: true}}},
		{ID: "size", Title: "Total size", Unit: "MB", Points: []views.ChartPoint{
			{Time: at(0), Value: 3, Present: true}, {Time: at(1)}, {Time: at(2), Value: 0, Present: true}, {Time: at(3), Value: 1.5, Present: true}}},
		{ID: "requests", Title: "Requests per minute", Unit: "requests/min", Points: []views.ChartPoint{
			{Time: at(0), Value: 130, Present: true}, {Time: at(1)}, {Time: at(2), Value: 4, Present: true}, {Time: at(3), Value: 9, Present: true}}},
	}
	// A gap's value is not drawn: compare only its time and Present.
	opt := cmp.Transformer("gap", func(p views.ChartPoint) views.ChartPoint {
		if !p.Present {
			p.Value = 0
		}
		return p
	})
	if diff := cmp.Diff(want, got, opt); diff != "" {
		t.Errorf("Charts (-want +got):\n%s", diff)
	}
	if got := Charts(nil); len(got) != 6 || len(got[0].Points) != 0 {
		t.Errorf("Charts(nil): %d charts, first with %d points; want 6 empty charts", len(got), len(got[0].Points))
	}
}

// statsFixture stores 30 minutes of known points ending at the fake
// clock's minute (12:34:56): minutes 12:05 … 12:34, every fifth one with
// no samples.
func statsFixture(t *testing.T) (*manager, time.Time) {
	t.Helper()
	m := newManager(t, setup{})
	from := time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC)
	m.stats.mu.Lock()
	defer m.stats.mu.Unlock()
	for i := range 30 {
		if i%5 == 4 {
			continue
		}
		m.stats.points[from.Add(time.Duration(i)*time.Minute)] = scaling.Point{
			Start: from.Add(time.Duration(i) * time.Minute), Reported: true,
			Nodes: 1 + i%3, Items: int64(10 * i), Bytes: int64(i) << 19, // i × 0.5 MiB
			Requests: int64(8 * i), Hits: int64(3 * i), Misses: int64(i), // a quarter missed, none at i = 0
		}
	}
	return m, from
}

// wantSeries is the expected chart data: [unix ms, value or nil].
func wantSeries(from time.Time, id string) [][]any {
	var out [][]any
	for i := range 30 {
		ms := float64(from.Add(time.Duration(i) * time.Minute).UnixMilli())
		var v any
		if i%5 != 4 {
			switch id {
			case "nodes":
				v = float64(1 + i%3)
			case "miss-rate":
				if i > 0 {
					v = 25.0
				}
			case "hit-rate":
				if i > 0 {
					v = 75.0
				}
			case "items":
				v = float64(10 * i)
			case "size":
				v = float64(i) / 2
			case "requests":
				v = float64(8 * i)
			}
		}
		out = append(out, []any{ms, v})
	}
	return out
}

// liveUpdate is the JSON of GET /stats/live's data block.
type liveUpdate struct {
	Updated string `json:"updated"`
	Charts  []struct {
		ID     string `json:"id"`
		Option struct {
			XAxis []struct {
				Min, Max float64
			} `json:"xAxis"`
			Series []struct {
				Data []struct {
					Value []any `json:"value"`
				} `json:"data"`
			} `json:"series"`
		} `json:"option"`
	} `json:"charts"`
}

func TestStatsLive(t *testing.T) {
	m, from := statsFixture(t)
	for _, htmx := range []bool{false, true} {
		t.Run(fmt.Sprintf("htmx=%v", htmx), func(t *testing.T) {
			headers := []string{"Cookie", m.cookie}
			if htmx {
				headers = append(headers, "HX-Request", "true")
			}
			r := get(t, m.srv+"/stats/live", headers...)
			doc := checkHTML(t, r, false)
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: %q", got)
			}
			checkTexts(t, doc, map[string]string{"stats-updated": "Updated 12:34:56"})
			var u liveUpdate
			if err := json.Unmarshal([]byte(byTestID(doc, "stats-live-data").Text()), &u); err != nil {
				t.Fatalf("stats-live-data: %v", err)
			}
			if u.Updated != "12:34:56" {
				t.Errorf("updated: %q", u.Updated)
			}
			var ids []string
			for _, c := range u.Charts {
				ids = append(ids, c.ID)
				if c.ID == "chart-miss-curve" { // by pool size, not by minute
					if len(c.Option.XAxis) != 1 || c.Option.XAxis[0].Min != 1 || c.Option.XAxis[0].Max != 8 || len(c.Option.Series) != 2 {
						t.Fatalf("%s: x axis %+v and %d series, want 1 to 8 nodes and 2 (predicted, now)", c.ID, c.Option.XAxis, len(c.Option.Series))
					}
					var sizes []any
					for _, d := range c.Option.Series[0].Data {
						sizes = append(sizes, d.Value[0])
					}
					if diff := cmp.Diff([]any{1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}, sizes); diff != "" {
						t.Errorf("%s predicted sizes (-want +got):\n%s", c.ID, diff)
					}
					continue
				}
				if len(c.Option.XAxis) != 1 || c.Option.XAxis[0].Min != float64(from.UnixMilli()) || c.Option.XAxis[0].Max != float64(from.Add(30*time.Minute).UnixMilli()) {
					t.Errorf("%s x axis %+v, want 12:05 to 12:35", c.ID, c.Option.XAxis)
				}
				if len(c.Option.Series) != 1 {
					t.Fatalf("%s has %d series", c.ID, len(c.Option.Series))
				}
				var got [][]any
				for _, d := range c.Option.Series[0].Data {
					got = append(got, d.Value)
				}
				if diff := cmp.Diff(wantSeries(from, c.ID[len("chart-"):]), got); diff != "" {
					t.Errorf("%s data (-want +got):\n%s", c.ID, diff)
				}
			}
			var want []string
			for _, id := range chartIDs {
				want = append(want, "chart-"+id)
			}
			want = append(want, "chart-miss-curve")
			if !slices.Equal(ids, want) {
				t.Errorf("charts %q, want %q", ids, want)
			}
		})
	}
	// The window asked for: the 30 minutes up to the current one, a
	// point a minute.
	m.stats.mu.Lock()
	asked := slices.Clone(m.stats.asked)
	m.stats.mu.Unlock()
	want := seriesCall{From: from, To: from.Add(30 * time.Minute), Step: time.Minute}
	if len(asked) != 2 || asked[0] != want || asked[1] != want {
		t.Errorf("Series calls %+v, want twice %+v", asked, want)
	}
}

// TestStatsLiveFollowsTheClock: a minute later the window moves by one.
func TestStatsLiveFollowsTheClock(t *testing.T) {
	m, from := statsFixture(t)
	m.clock.Advance(time.Minute)
	r := get(t, m.srv+"/stats/live", "Cookie", m.cookie, "HX-Request", "true")
	doc := checkHTML(t, r, false)
	checkTexts(t, doc, map[string]string{"stats-updated": "Updated 12:35:56"})
	var u liveUpdate
	if err := json.Unmarshal([]byte(byTestID(doc, "stats-live-data").Text()), &u); err != nil {
		t.Fatal(err)
	}
	data := u.Charts[0].Option.Series[0].Data
	if len(data) != 30 {
		t.Fatalf("%d points, want 30", len(data))
	}
	first, last := data[0].Value, data[29].Value
	if first[0] != float64(from.Add(time.Minute).UnixMilli()) || last[0] != float64(from.Add(30*time.Minute).UnixMilli()) || last[1] != nil {
		t.Errorf("window %v … %v, want 12:06 … 12:35 with 12:35 a gap", first, last)
	}
}

func TestStatsPage(t *testing.T) {
	m, from := statsFixture(t)
	doc := checkHTML(t, get(t, m.srv+"/stats", "Cookie", m.cookie), true)
	titles := map[string]string{"nodes": "Nodes", "miss-rate": "Miss rate", "hit-rate": "Hit rate", "items": "Items", "size": "Total size", "requests": "Requests per minute"}
	for _, id := range chartIDs {
		if n := byTestID(doc, "chart-"+id).Length(); n != 1 {
			t.Errorf("chart-%s: found %d", id, n)
			continue
		}
		if got := textOf(byTestID(doc, "chart-card-"+id).Find("h2")); got != titles[id] {
			t.Errorf("chart-%s title %q, want %q", id, got, titles[id])
		}
		var option struct {
			Series []struct {
				Data []struct {
					Value []any `json:"value"`
				} `json:"data"`
			} `json:"series"`
		}
		if err := json.Unmarshal([]byte(byTestID(doc, "chart-"+id+"-option").Text()), &option); err != nil {
			t.Fatalf("chart-%s-option: %v", id, err)
		}
		var got [][]any
		for _, d := range option.Series[0].Data {
			got = append(got, d.Value)
		}
		if diff := cmp.Diff(wantSeries(from, id), got); diff != "" {
			t.Errorf("chart-%s data (-want +got):\n%s", id, diff)
		}
	}
	checkTexts(t, doc, map[string]string{"stats-updated": "Updated 12:34:56"})
}

func TestStatsUnavailable(t *testing.T) {
	m := newManager(t, setup{})
	m.stats.mu.Lock()
	m.stats.err = fmt.Errorf("fake metrics: %w", gallery.ErrUnavailable)
	m.stats.mu.Unlock()
	for _, path := range []string{"/stats", "/stats/live"} {
		r := get(t, m.srv+path, "Cookie", m.cookie)
		if r.status != http.StatusServiceUnavailable || string(r.body) != storageMessage+"\n" {
			t.Errorf("%s: got %d %q, want 503 %q", path, r.status, r.body, storageMessage)
		}
	}
}

// TestStatsMissRateByPoolSize: the statistics page's "Miss rate by pool
// size" draws the pool's curve: 40 keys looked up twice each on one
// node, every one fitting, predict one miss in two at every size; the
// point is the pool now (1 node, the same rate measured) and the line the
// target of the target rule.
func TestStatsMissRateByPoolSize(t *testing.T) {
	m := newManager(t, setup{nodes: 1})
	ctx := t.Context()
	for range 2 {
		for i := range 40 {
			load := func(context.Context) ([]byte, uint64, error) { return []byte(fmt.Sprintf("value-%d", i)), 1, nil }
			if _, _, _, err := m.pool.GetOrLoad(ctx, fmt.Sprintf("key-%d", i), load); err != nil {
				t.Fatal(err)
			}
		}
	}
	target := scaling.Target{MissRate: 0.1, Hysteresis: 0.2}
	m.settings.set(scaling.Settings{Mode: scaling.Auto, Rule: scaling.RuleTarget, Policy: scaling.DefaultPolicy(), Target: target})

	doc := checkHTML(t, get(t, m.srv+"/stats", "Cookie", m.cookie), true)
	if got := byTestID(doc, "chart-card-miss-curve").Find("h2").Text(); got != "Miss rate by pool size" {
		t.Errorf("chart title %q", got)
	}
	var option struct {
		Series []struct {
			Data []struct {
				Value []any `json:"value"`
			} `json:"data"`
			MarkLine struct {
				Data []struct {
					YAxis float64 `json:"yAxis"`
				} `json:"data"`
			} `json:"markLine"`
		} `json:"series"`
	}
	if err := json.Unmarshal([]byte(byTestID(doc, "chart-miss-curve-option").Text()), &option); err != nil {
		t.Fatalf("chart-miss-curve-option: %v", err)
	}
	if len(option.Series) != 2 {
		t.Fatalf("%d series, want 2 (predicted, now)", len(option.Series))
	}
	var predicted, now [][]any
	for _, d := range option.Series[0].Data {
		predicted = append(predicted, d.Value)
	}
	for _, d := range option.Series[1].Data {
		now = append(now, d.Value)
	}
	want := [][]any{{1.0, 50.0}, {2.0, 50.0}, {3.0, 50.0}, {4.0, 50.0}, {5.0, 50.0}, {6.0, 50.0}, {7.0, 50.0}, {8.0, 50.0}}
	if diff := cmp.Diff(want, predicted); diff != "" {
		t.Errorf("predicted (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]any{{1.0, 50.0}}, now); diff != "" {
		t.Errorf("now (-want +got):\n%s", diff)
	}
	if ml := option.Series[0].MarkLine.Data; len(ml) != 1 || ml[0].YAxis != 10 {
		t.Errorf("target line %+v, want one at 10 %%", ml)
	}
	checkTexts(t, doc, map[string]string{"miss-curve-note": "Predicted for nodes of 16 MB each, from the nodes' miss-ratio curves over the last 10 minutes."})
}
