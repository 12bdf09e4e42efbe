package handlers

import (
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
