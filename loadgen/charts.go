package loadgen

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/render"
)

// chartKind is one kind of chart a scenario's report shows.
type chartKind int

const (
	chartLatencyByRequests  chartKind = iota // per group: p50/p99 against requests done, a line per series
	chartThroughputBars                      // reads+writes per second, by group and series
	chartHitRateBars                         // reads' hit rate, by group and series
	chartLatencyOverTime                     // p50/p99 of each second
	chartThroughputOverTime                  // reads+writes of each second
	chartHitRateOverTime                     // reads' hit rate of each second
	chartNodes                               // polled getNumNodes
	chartMissRate                            // polled getRate, with the autoscale thresholds
)

// chart is one rendered chart: its element id and snippet.
type chart struct {
	ID      string
	Snippet render.ChartSnippet
}

// buildCharts returns the charts of the scenario, in its order.
func buildCharts(res *Result) []chart {
	var out []chart
	add := func(id string, r render.Renderer) { out = append(out, chart{ID: id, Snippet: r.RenderSnippet()}) }
	for _, kind := range scenarios[res.Config.Scenario].charts {
		switch kind {
		case chartLatencyByRequests:
			for _, g := range groups(res.Phases) {
				add("latency_"+domID(g), latencyByRequests(res.Phases, g))
			}
		case chartThroughputBars:
			add("throughput", bars(res.Phases, "throughput", "Reads and writes per second", "req/s", func(p PhaseResult) (float64, bool) { return p.LoadRPS(), true }))
		case chartHitRateBars:
			add("hit_rate", bars(res.Phases, "hit_rate", "Reads answered from the cache", "%", func(p PhaseResult) (float64, bool) {
				h := p.Row(TypeRead).HitRate()
				return 100 * h, h >= 0 // no bar where the cache was off
			}))
		case chartLatencyOverTime:
			add("latency_time", overTime(res, "latency_time", "Latency of reads and writes, each second", "ms", latencySeries))
		case chartThroughputOverTime:
			add("throughput_time", overTime(res, "throughput_time", "Reads and writes per second", "req/s", throughputSeries))
		case chartHitRateOverTime:
			add("hit_rate_time", overTime(res, "hit_rate_time", "Reads answered from the cache, each second", "%", hitRateSeries))
		case chartNodes:
			add("nodes", overTime(res, "nodes", "Nodes in the pool (getNumNodes, polled every second)", "nodes", polledSeries(TypeNodes, "nodes", 1)))
		case chartMissRate:
			add("miss_rate", overTime(res, "miss_rate", "Pool miss rate over the last minute (getRate, polled every second)", "%", polledSeries(TypeRate, "miss rate", 100)))
		}
	}
	return out
}

// groups lists the phases' groups in order of first appearance.
func groups(phases []PhaseResult) []string {
	var gs []string
	for _, p := range phases {
		if !slices.Contains(gs, p.Group) {
			gs = append(gs, p.Group)
		}
	}
	return gs
}

// domID keeps ASCII letters and digits and makes the rest "_": go-echarts
// names JavaScript variables after the chart's id.
func domID(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

func baseOpts(id, title, xName, yName string, xType, yType string) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{ChartID: id, Width: "100%", Height: "380px"}),
		charts.WithAnimation(false),
		charts.WithTitleOpts(opts.Title{Title: title}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "28"}),
		charts.WithGridOpts(opts.Grid{Left: "64", Right: "32", Top: "72", Bottom: "64"}),
		charts.WithXAxisOpts(opts.XAxis{Type: xType, Name: xName, NameLocation: "middle", NameGap: 28}),
		charts.WithYAxisOpts(opts.YAxis{Type: yType, Name: yName}),
		charts.WithDataZoomOpts(opts.DataZoom{Type: "inside", XAxisIndex: 0, FilterMode: "none"}),
	}
}

var thin = charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)})

// loadSamples are a phase's reads and writes, in the order they ended.
func loadSamples(p PhaseResult) []Sample {
	var out []Sample
	for _, s := range p.Samples {
		if s.Type == TypeRead || s.Type == TypeWrite {
			out = append(out, s)
		}
	}
	return out
}

// latencyByRequests: for group g, the p50 and p99 of every block of
// requests (about 100 blocks a phase) against the requests done.
func latencyByRequests(phases []PhaseResult, g string) *charts.Line {
	line := charts.NewLine()
	line.SetGlobalOptions(baseOpts("latency_"+domID(g), "Latency against requests, "+g+" read:write",
		"requests done", "ms (log)", "value", "log")...)
	for _, p := range phases {
		if p.Group != g {
			continue
		}
		ss := loadSamples(p)
		block := max(1, (len(ss)+99)/100)
		var p50, p99 []opts.LineData
		for i := 0; i < len(ss); i += block {
			lat := make([]time.Duration, 0, block)
			for _, s := range ss[i:min(i+block, len(ss))] {
				lat = append(lat, s.Latency)
			}
			slices.Sort(lat)
			x := min(i+block, len(ss))
			p50 = append(p50, opts.LineData{Value: []any{x, msValue(Percentile(lat, 50))}})
			p99 = append(p99, opts.LineData{Value: []any{x, msValue(Percentile(lat, 99))}})
		}
		line.AddSeries(p.Series+" p50", p50, thin)
		line.AddSeries(p.Series+" p99", p99, thin, charts.WithLineStyleOpts(opts.LineStyle{Type: "dashed"}))
	}
	return line
}

func msValue(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// bars: value(p) of every phase, groups on the x axis, a bar per series.
func bars(phases []PhaseResult, id, title, unit string, value func(PhaseResult) (float64, bool)) *charts.Bar {
	bar := charts.NewBar()
	bar.SetGlobalOptions(baseOpts(id, title, "read:write", unit, "category", "value")...)
	gs := groups(phases)
	bar.SetXAxis(gs)
	var series []string
	for _, p := range phases {
		if !slices.Contains(series, p.Series) {
			series = append(series, p.Series)
		}
	}
	for _, s := range series {
		data := make([]opts.BarData, len(gs))
		for i, g := range gs {
			data[i] = opts.BarData{Value: nil}
			for _, p := range phases {
				if v, ok := value(p); ok && p.Group == g && p.Series == s {
					data[i] = opts.BarData{Value: math.Round(v*10) / 10}
				}
			}
		}
		bar.AddSeries(s, data, charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "top"}))
	}
	return bar
}

// seriesFunc turns one phase into named series of [seconds since the
// run began, value] points.
type seriesFunc func(p PhaseResult) map[string][]opts.LineData

// perSecond groups samples that pass keep by the second they started in.
func perSecond(p PhaseResult, keep func(Sample) bool) (secs []int, by map[int][]Sample) {
	by = map[int][]Sample{}
	for _, s := range p.Samples {
		if keep(s) {
			sec := int(s.At / time.Second)
			if _, ok := by[sec]; !ok {
				secs = append(secs, sec)
			}
			by[sec] = append(by[sec], s)
		}
	}
	slices.Sort(secs)
	return secs, by
}

func isLoad(s Sample) bool { return s.Type == TypeRead || s.Type == TypeWrite }

// fullSeconds drops the last second of a phase, which is cut short and
// would read as a drop.
func fullSeconds(p PhaseResult, secs []int) []int {
	end := int((p.Start + p.Elapsed) / time.Second)
	return slices.DeleteFunc(secs, func(s int) bool { return s >= end })
}

func latencySeries(p PhaseResult) map[string][]opts.LineData {
	secs, by := perSecond(p, isLoad)
	var p50, p99 []opts.LineData
	for _, sec := range fullSeconds(p, secs) {
		lat := make([]time.Duration, len(by[sec]))
		for i, s := range by[sec] {
			lat[i] = s.Latency
		}
		slices.Sort(lat)
		p50 = append(p50, opts.LineData{Value: []any{sec, msValue(Percentile(lat, 50))}})
		p99 = append(p99, opts.LineData{Value: []any{sec, msValue(Percentile(lat, 99))}})
	}
	return map[string][]opts.LineData{"p50": p50, "p99": p99}
}

func throughputSeries(p PhaseResult) map[string][]opts.LineData {
	secs, by := perSecond(p, isLoad)
	var d []opts.LineData
	for _, sec := range fullSeconds(p, secs) {
		d = append(d, opts.LineData{Value: []any{sec, len(by[sec])}})
	}
	return map[string][]opts.LineData{"req/s": d}
}

func hitRateSeries(p PhaseResult) map[string][]opts.LineData {
	secs, by := perSecond(p, func(s Sample) bool { return s.Type == TypeRead && (s.Cache == "HIT" || s.Cache == "MISS") })
	var d []opts.LineData
	for _, sec := range fullSeconds(p, secs) {
		hits := 0
		for _, s := range by[sec] {
			if s.Cache == "HIT" {
				hits++
			}
		}
		d = append(d, opts.LineData{Value: []any{sec, math.Round(1000*float64(hits)/float64(len(by[sec]))) / 10}})
	}
	return map[string][]opts.LineData{"hit rate": d}
}

// polledSeries charts the polled values of typ, times scale.
func polledSeries(typ, name string, scale float64) seriesFunc {
	return func(p PhaseResult) map[string][]opts.LineData {
		var d []opts.LineData
		for _, s := range p.Samples {
			if s.Type == typ && s.HasVal {
				d = append(d, opts.LineData{Value: []any{math.Round(s.At.Seconds()*10) / 10, math.Round(s.Value*scale*10) / 10}})
			}
		}
		return map[string][]opts.LineData{name: d}
	}
}

// overTime charts f of every phase on one time axis (seconds since the
// run began), a series per phase and name when there are several
// phases, with the run's changes and phase starts marked.
func overTime(res *Result, id, title, unit string, f seriesFunc) *charts.Line {
	line := charts.NewLine()
	line.SetGlobalOptions(baseOpts(id, title, "seconds since the run began", unit, "value", "value")...)
	var marks []opts.MarkLineNameXAxisItem
	for i, p := range res.Phases {
		if i > 0 {
			marks = append(marks, opts.MarkLineNameXAxisItem{Name: p.Series, XAxis: math.Round(p.Start.Seconds()*10) / 10})
		}
		for _, m := range p.Marks {
			marks = append(marks, opts.MarkLineNameXAxisItem{Name: m.Label, XAxis: math.Round(m.At.Seconds()*10) / 10})
		}
	}
	first := true
	for _, p := range res.Phases {
		series := f(p)
		for _, name := range slices.Sorted(mapKeys(series)) {
			label := name
			if len(res.Phases) > 1 {
				label = p.Series + " " + name
			}
			so := []charts.SeriesOpts{thin}
			if first {
				so = append(so, charts.WithMarkLineNameXAxisItemOpts(marks...),
					charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Label: &opts.Label{Show: opts.Bool(true), Formatter: "{b}"}}))
				if id == "miss_rate" {
					so = append(so, charts.WithMarkLineNameYAxisItemOpts(
						opts.MarkLineNameYAxisItem{Name: fmt.Sprintf("max miss %.0f%%", 100*AutoscaleMaxMiss), YAxis: 100 * AutoscaleMaxMiss},
						opts.MarkLineNameYAxisItem{Name: fmt.Sprintf("min miss %.0f%%", 100*AutoscaleMinMiss), YAxis: 100 * AutoscaleMinMiss},
						opts.MarkLineNameYAxisItem{Name: fmt.Sprintf("target %.0f%%", 100*AutoscaleTargetMiss), YAxis: 100 * AutoscaleTargetMiss}))
				}
				first = false
			}
			line.AddSeries(label, series[name], so...)
		}
	}
	return line
}
