package views

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/picpool/picpool/assets"
)

// The statistics page's charts are built server-side with go-echarts: it
// produces each chart's complete ECharts option, which the page embeds as
// a JSON block (HTML-escaped, unlike go-echarts' own inline script) that
// assets/stats.js hands to echarts.init. A live update carries, per chart,
// only the x axis bounds and the series data, which stats.js merges into
// the chart with setOption: the dataZoom state is not in it, so a zoomed
// chart stays zoomed.

// echartsHost is where go-echarts points a chart's script: the vendored
// copy in package assets, not go-echarts' default CDN.
const echartsHost = assets.Prefix

// chartColors gives each chart of a page its own colour, in page order.
var chartColors = []string{"#2f6fde", "#d9480f", "#2b8a3e", "#7048e8", "#c2255c", "#0b7285"}

// defaultRefresh is how often the statistics page polls for new data when
// Stats.Refresh is zero.
const defaultRefresh = 5 * time.Second

// refresh is m's polling period.
func (m Stats) refresh() time.Duration {
	if m.Refresh <= 0 {
		return defaultRefresh
	}
	return m.Refresh
}

// window returns the x axis bounds of the charts in Unix milliseconds, or
// nil for a bound that is unknown (no points and none given).
func (m Stats) window() (from, to any) {
	f, t := m.From, m.To
	for _, c := range m.Charts {
		if len(c.Points) == 0 {
			continue
		}
		if f.IsZero() || (m.From.IsZero() && c.Points[0].Time.Before(f)) {
			f = c.Points[0].Time
		}
		if end := c.Points[len(c.Points)-1].Time.Add(time.Minute); m.To.IsZero() && end.After(t) {
			t = end
		}
	}
	if !f.IsZero() {
		from = f.UnixMilli()
	}
	if !t.IsZero() {
		to = t.UnixMilli()
	}
	return from, to
}

// chartDOMID is the id of a chart's element: "chart-" and the chart's ID
// with anything but ASCII letters, digits and "-" replaced by "-", so an
// ID can never break out of an attribute or a selector.
func chartDOMID(id string) string {
	return "chart-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, id)
}

// seriesData is a chart's points as ECharts line data on a time axis:
// [unix ms, value], and [unix ms, null] for a minute without data, which
// ECharts draws as a gap (connectNulls is off) rather than a drop to 0.
func seriesData(points []ChartPoint) []opts.LineData {
	data := make([]opts.LineData, len(points))
	for i, p := range points {
		var v any // nil: JSON null, a gap
		if p.Present {
			v = p.Value
		}
		data[i] = opts.LineData{Value: []any{p.Time.UnixMilli(), v}}
	}
	return data
}

// lineChart builds chart i of m with go-echarts.
func lineChart(m Stats, i int) *charts.Line {
	c := m.Charts[i]
	from, to := m.window()
	yAxis := opts.YAxis{Type: "value", Name: c.Unit, Min: 0, Scale: opts.Bool(false)}
	if c.Unit == "%" {
		yAxis.Max = 100
	}
	line := charts.NewLine()
	line.SetGlobalOptions(
		charts.WithInitializationOpts(opts.Initialization{
			ChartID:    chartDOMID(c.ID),
			AssetsHost: echartsHost,
			Width:      "100%",
			Height:     "260px",
		}),
		charts.WithAnimation(false), // an update every few seconds should not replay a transition
		charts.WithColorsOpts(opts.Colors{chartColors[i%len(chartColors)]}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "56", Right: "20", Top: "36", Bottom: "72"}),
		// Ticks five minutes apart: at two, the labels of 30 minutes touch
		// on a half-width chart. ECharts picks the tick step strictly below
		// the interval it is given (6 min → 5 min; 5 min → 2 min).
		charts.WithXAxisOpts(opts.XAxis{
			Type: "time", Min: from, Max: to, MinInterval: float64(6 * time.Minute / time.Millisecond),
			AxisLabel: &opts.AxisLabel{HideOverlap: opts.Bool(true)},
		}),
		charts.WithYAxisOpts(yAxis),
		// "inside" zooms with the wheel and pans by dragging; the slider
		// shows and moves the window. filterMode none keeps lines whole at
		// the window's edges.
		charts.WithDataZoomOpts(
			opts.DataZoom{Type: "inside", XAxisIndex: 0, FilterMode: "none"},
			opts.DataZoom{Type: "slider", XAxisIndex: 0, FilterMode: "none"},
		),
	)
	line.AddSeries(c.Title, seriesData(c.Points),
		charts.WithLineChartOpts(opts.LineChart{
			ShowSymbol:   opts.Bool(true), // a lone minute between two gaps must still show
			SymbolSize:   4,
			ConnectNulls: opts.Bool(false),
		}),
	)
	line.Validate()
	return line
}

// chartOption returns the complete ECharts option of chart i of m. Its
// tooltip is drawn in the canvas (renderMode richText, which go-echarts
// has no field for): ECharts' HTML tooltip writes inline style
// attributes, which the pages' content security policy refuses.
func chartOption(m Stats, i int) map[string]any {
	o := lineChart(m, i).JSON()
	o["tooltip"] = map[string]any{"show": true, "trigger": "axis", "renderMode": "richText"}
	return o
}

// LiveUpdate is what GET /stats/live carries for the charts, as JSON:
// for each chart its element's id and the option to merge into it.
type LiveUpdate struct {
	Updated string       `json:"updated"` // as the page shows it
	Charts  []ChartPatch `json:"charts"`
}

// ChartPatch is one chart's part of a LiveUpdate: the x axis bounds and
// the series data, and nothing of the zoom.
type ChartPatch struct {
	ElementID string      `json:"id"`
	Option    PatchOption `json:"option"`
}

// PatchOption is the subset of an ECharts option a live update replaces.
type PatchOption struct {
	XAxis  []AxisBounds `json:"xAxis"`
	Series []SeriesData `json:"series"`
}

// AxisBounds are an axis' min and max (Unix ms; null when unknown).
type AxisBounds struct {
	Min any `json:"min"`
	Max any `json:"max"`
}

// SeriesData is one series' data, as in the full option, and its mark
// lines where it has some (the target of "Miss rate by pool size").
type SeriesData struct {
	Data     []opts.LineData `json:"data"`
	MarkLine *MarkLineData   `json:"markLine,omitempty"`
}

// MarkLineData is a series' mark lines.
type MarkLineData struct {
	Data []any `json:"data"`
}

// Live returns the live update of m: what the page's script merges into
// its charts. StatsLive renders it into the page; a handler that prefers
// to answer GET /stats/live with JSON can encode it (LiveJSON).
func Live(m Stats) LiveUpdate {
	from, to := m.window()
	u := LiveUpdate{Updated: formatClock(m.Updated), Charts: make([]ChartPatch, len(m.Charts))}
	for i, c := range m.Charts {
		u.Charts[i] = ChartPatch{
			ElementID: chartDOMID(c.ID),
			Option: PatchOption{
				XAxis:  []AxisBounds{{Min: from, Max: to}},
				Series: []SeriesData{{Data: seriesData(c.Points)}},
			},
		}
	}
	if m.Curve != nil {
		u.Charts = append(u.Charts, curvePatch(*m.Curve))
	}
	return u
}

// LiveJSON is Live(m) encoded as JSON, for a handler that serves GET
// /stats/live as application/json instead of the StatsLive fragment.
func LiveJSON(m Stats) ([]byte, error) {
	b, err := json.Marshal(Live(m))
	if err != nil {
		return nil, fmt.Errorf("views: encode live update: %w", err)
	}
	return b, nil
}

// formatClock writes the time of day of an update, "14:03:07", or "" for
// the zero time.
func formatClock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("15:04:05")
}
