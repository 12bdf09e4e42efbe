package views

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/assets"
)

// sampleStats has six charts over 30 minutes; minutes 10 and 11 are
// missing everywhere, and minute 5 of the miss rate is a real 0.
func sampleStats() Stats {
	start := t0.Truncate(time.Minute).Add(-29 * time.Minute)
	ids := []string{"nodes", "miss-rate", "hit-rate", "items", "size", "requests"}
	m := Stats{From: start, To: start.Add(30 * time.Minute), Updated: t0}
	for _, id := range ids {
		c := Chart{ID: id, Title: "Title of " + id, Unit: "u"}
		if id == "miss-rate" {
			c.Unit = "%"
		}
		for i := range 30 {
			p := ChartPoint{Time: start.Add(time.Duration(i) * time.Minute)}
			if i != 10 && i != 11 {
				p.Present, p.Value = true, float64(i)+0.5
			}
			if id == "miss-rate" && i == 5 {
				p.Value = 0
			}
			c.Points = append(c.Points, p)
		}
		m.Charts = append(m.Charts, c)
	}
	return m
}

// option is the part of an ECharts option the tests read.
type option struct {
	XAxis []struct {
		Type string `json:"type"`
		Min  *int64 `json:"min"`
		Max  *int64 `json:"max"`
	} `json:"xAxis"`
	YAxis []struct {
		Name string   `json:"name"`
		Min  *float64 `json:"min"`
		Max  *float64 `json:"max"`
	} `json:"yAxis"`
	DataZoom []struct {
		Type string `json:"type"`
	} `json:"dataZoom"`
	Series []struct {
		Type         string `json:"type"`
		ConnectNulls *bool  `json:"connectNulls"`
		Data         []struct {
			Value []*float64 `json:"value"` // [ms, value]; value nil for a gap
		} `json:"data"`
	} `json:"series"`
}

func TestStatsPage(t *testing.T) {
	m := sampleStats()
	doc, _ := render(t, StatsPage(m))

	live := one(t, doc, "stats-live")
	got := [3]string{attr(t, live, "hx-get"), attr(t, live, "hx-trigger"), attr(t, live, "hx-swap")}
	if want := [3]string{"/stats/live", "every 5000ms", "innerHTML"}; got != want {
		t.Errorf("poller hx-get, hx-trigger, hx-swap: got %q, want %q", got, want)
	}
	if got := text(one(t, doc, "stats-updated")); got != "Updated 14:03:07" {
		t.Errorf("updated: got %q", got)
	}
	// ECharts loads from the vendored copy, before stats.js.
	var scripts []string
	doc.Find("head script[src]").Each(func(_ int, s *goquery.Selection) { scripts = append(scripts, attr(t, s, "src")) })
	wantScripts := []string{assets.URL(assets.HTMX), assets.URL(assets.SiteJS), assets.URL(assets.ECharts), assets.URL(assets.StatsJS)}
	if diff := cmp.Diff(wantScripts, scripts); diff != "" {
		t.Errorf("scripts (-want +got):\n%s", diff)
	}

	for i, c := range m.Charts {
		el := one(t, doc, "chart-"+c.ID)
		if attr(t, el, "id") != "chart-"+c.ID || !hasAttr(el, "data-chart") {
			t.Errorf("chart %s: element id %q, data-chart %v", c.ID, attr(t, el, "id"), hasAttr(el, "data-chart"))
		}
		var o option
		if err := json.Unmarshal([]byte(one(t, doc, "chart-"+c.ID+"-option").Text()), &o); err != nil {
			t.Fatalf("chart %s option: %v", c.ID, err)
		}
		if len(o.XAxis) != 1 || o.XAxis[0].Type != "time" || o.XAxis[0].Min == nil || o.XAxis[0].Max == nil ||
			*o.XAxis[0].Min != m.From.UnixMilli() || *o.XAxis[0].Max != m.To.UnixMilli() {
			t.Errorf("chart %s x axis: got %+v, want time from %d to %d", c.ID, o.XAxis, m.From.UnixMilli(), m.To.UnixMilli())
		}
		var zooms []string
		for _, z := range o.DataZoom {
			zooms = append(zooms, z.Type)
		}
		if diff := cmp.Diff([]string{"inside", "slider"}, zooms); diff != "" {
			t.Errorf("chart %s dataZoom (-want +got):\n%s", c.ID, diff)
		}
		if len(o.YAxis) != 1 || o.YAxis[0].Name != c.Unit || o.YAxis[0].Min == nil || *o.YAxis[0].Min != 0 {
			t.Errorf("chart %s y axis: got %+v", c.ID, o.YAxis)
		}
		if len(o.Series) != 1 || o.Series[0].Type != "line" || o.Series[0].ConnectNulls == nil || *o.Series[0].ConnectNulls {
			t.Fatalf("chart %s: want one line series with connectNulls false, got %+v", c.ID, o.Series)
		}
		checkSeries(t, c, o.Series[0].Data)
		if i == 1 && (o.YAxis[0].Max == nil || *o.YAxis[0].Max != 100) {
			t.Errorf("a chart in %% does not stop at 100: %+v", o.YAxis[0])
		}
	}
}

// checkSeries checks a series' data against the chart's points: every
// minute present, in order, a missing one as null and a real 0 as 0.
func checkSeries(t *testing.T, c Chart, data []struct {
	Value []*float64 `json:"value"`
}) {
	t.Helper()
	if len(data) != len(c.Points) {
		t.Fatalf("chart %s: %d data items, want %d", c.ID, len(data), len(c.Points))
	}
	for j, p := range c.Points {
		v := data[j].Value
		if len(v) != 2 || v[0] == nil || int64(*v[0]) != p.Time.UnixMilli() {
			t.Fatalf("chart %s item %d: got %v, want time %d first", c.ID, j, v, p.Time.UnixMilli())
		}
		switch {
		case !p.Present && v[1] != nil:
			t.Errorf("chart %s minute %d has no data but is drawn as %v, not a gap (null)", c.ID, j, *v[1])
		case p.Present && v[1] == nil:
			t.Errorf("chart %s minute %d is %v but drawn as a gap", c.ID, j, p.Value)
		case p.Present && *v[1] != p.Value:
			t.Errorf("chart %s minute %d: got %v, want %v", c.ID, j, *v[1], p.Value)
		}
	}
}

// TestChartGaps checks the gap semantics on the exact JSON: a missing
// minute is null, never 0, and a real 0 stays 0.
func TestChartGaps(t *testing.T) {
	b, err := json.Marshal(seriesData([]ChartPoint{
		{Time: time.UnixMilli(60_000), Value: 7, Present: false}, // a stale Value must not leak
		{Time: time.UnixMilli(120_000), Value: 0, Present: true},
		{Time: time.UnixMilli(180_000), Value: 2.5, Present: true},
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"value":[60000,null]},{"value":[120000,0]},{"value":[180000,2.5]}]`
	if string(b) != want {
		t.Errorf("series data: got %s, want %s", b, want)
	}
}

func TestStatsLive(t *testing.T) {
	m := sampleStats()
	doc, html := render(t, StatsLive(m))
	isFragment(t, html)
	if got := text(one(t, doc, "stats-updated")); got != "Updated 14:03:07" {
		t.Errorf("updated: got %q", got)
	}
	block := one(t, doc, "stats-live-data")
	if got := [2]string{attr(t, block, "id"), attr(t, block, "type")}; got != [2]string{"stats-live-data", "application/json"} {
		t.Errorf("data block id, type: got %q", got)
	}
	var u struct {
		Updated string `json:"updated"`
		Charts  []struct {
			ID     string         `json:"id"`
			Option map[string]any `json:"option"`
		} `json:"charts"`
	}
	if err := json.Unmarshal([]byte(block.Text()), &u); err != nil {
		t.Fatal(err)
	}
	if u.Updated != "14:03:07" || len(u.Charts) != len(m.Charts) {
		t.Fatalf("update: got updated %q and %d charts", u.Updated, len(u.Charts))
	}
	for i, c := range u.Charts {
		if want := "chart-" + m.Charts[i].ID; c.ID != want {
			t.Errorf("chart %d id: got %q, want %q", i, c.ID, want)
		}
		// Only axis bounds and data: anything else (dataZoom above all)
		// would reset what the user set.
		var keys []string
		for k := range c.Option {
			keys = append(keys, k)
		}
		if diff := cmp.Diff([]string{"series", "xAxis"}, keys, cmpSorted); diff != "" {
			t.Errorf("chart %s update keys (-want +got):\n%s", c.ID, diff)
		}
		b, _ := json.Marshal(c.Option)
		var o option
		if err := json.Unmarshal(b, &o); err != nil {
			t.Fatal(err)
		}
		if len(o.XAxis) != 1 || o.XAxis[0].Min == nil || *o.XAxis[0].Min != m.From.UnixMilli() || *o.XAxis[0].Max != m.To.UnixMilli() {
			t.Errorf("chart %s update x axis: got %+v", c.ID, o.XAxis)
		}
		if len(o.Series) != 1 {
			t.Fatalf("chart %s update: %d series", c.ID, len(o.Series))
		}
		checkSeries(t, m.Charts[i], o.Series[0].Data)
	}

	// LiveJSON is the same update, for a handler that answers with JSON.
	j, err := LiveJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON, fromBlock any
	json.Unmarshal(j, &fromJSON)
	json.Unmarshal([]byte(block.Text()), &fromBlock)
	if diff := cmp.Diff(fromBlock, fromJSON); diff != "" {
		t.Errorf("LiveJSON differs from the fragment's data (-fragment +json):\n%s", diff)
	}
}

func TestStatsWindow(t *testing.T) {
	a := time.UnixMilli(600_000)
	pts := []ChartPoint{{Time: a, Present: true}, {Time: a.Add(time.Minute)}}
	tests := []struct {
		name     string
		m        Stats
		from, to any
	}{
		{"given", Stats{From: a.Add(-time.Hour), To: a, Charts: []Chart{{Points: pts}}}, a.Add(-time.Hour).UnixMilli(), a.UnixMilli()},
		{"from the points", Stats{Charts: []Chart{{Points: pts}}}, a.UnixMilli(), a.Add(2 * time.Minute).UnixMilli()},
		{"from the widest chart", Stats{Charts: []Chart{{Points: pts[1:]}, {Points: pts[:1]}}}, a.UnixMilli(), a.Add(2 * time.Minute).UnixMilli()},
		{"nothing known", Stats{Charts: []Chart{{}}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := tt.m.window()
			if from != tt.from || to != tt.to {
				t.Errorf("window: got %v, %v, want %v, %v", from, to, tt.from, tt.to)
			}
		})
	}
}

func TestChartDOMID(t *testing.T) {
	for id, want := range map[string]string{
		"miss-rate": "chart-miss-rate", "a b": "chart-a-b", `x"><script>`: "chart-x---script-", "ü": "chart--",
	} {
		if got := chartDOMID(id); got != want {
			t.Errorf("chartDOMID(%q): got %q, want %q", id, got, want)
		}
	}
}

// TestEChartsAssetsHost checks that go-echarts, left to its defaults,
// would load ECharts from the vendored copy and not from its CDN.
func TestEChartsAssetsHost(t *testing.T) {
	line := lineChart(sampleStats(), 0)
	got := line.GetAssets().JSAssets.Values
	if diff := cmp.Diff([]string{assets.Prefix + assets.ECharts}, got); diff != "" {
		t.Errorf("go-echarts scripts (-want +got):\n%s", diff)
	}
	// And a chart built without our host would not: the override matters.
	def := charts.NewLine()
	def.SetGlobalOptions(charts.WithInitializationOpts(opts.Initialization{}))
	def.Validate()
	if v := def.GetAssets().JSAssets.Values; len(v) == 0 || v[0] == got[0] {
		t.Errorf("go-echarts' default host is ours (%q): the test no longer shows the override", v)
	}
}

func TestRefreshDefault(t *testing.T) {
	doc, _ := render(t, StatsPage(Stats{Refresh: 2 * time.Second}))
	if got := attr(t, one(t, doc, "stats-live"), "hx-trigger"); got != "every 2000ms" {
		t.Errorf("hx-trigger: got %q", got)
	}
}
