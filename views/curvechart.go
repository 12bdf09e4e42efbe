package views

import (
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// CurveChart is the statistics page's "Miss rate by pool size": the
// predicted miss rate of a pool of 1 to 8 nodes at the current capacity
// per node (from the pool's miss-ratio curve), the pool's current size
// and measured miss rate as a point, and the target miss rate as a line.
// Rates are fractions from 0 to 1; the chart shows percent.
type CurveChart struct {
	// Predicted is the miss rate of 1 to 8 nodes: element i is for i+1.
	// Empty, or NaN where the curve has seen no requests: no line.
	Predicted []float64
	// Nodes and MissRate are the pool's size and its miss rate over the
	// last minute; HasMissRate is false when there was no lookup.
	Nodes       int
	MissRate    float64
	HasMissRate bool
	// Target is the target miss rate; 0 draws no line.
	Target float64
	// Note says why there is no prediction, or what it assumes; shown
	// under the chart.
	Note string
}

// curveChartID is the chart's ID: its element is "chart-miss-curve".
const curveChartID = "miss-curve"

// curveSeries returns the chart's series data: the predicted curve, and
// the current point.
func curveSeries(c CurveChart) (predicted, now []opts.LineData) {
	for i, m := range c.Predicted {
		var v any // nil: a gap
		if !math.IsNaN(m) {
			v = pct(m)
		}
		predicted = append(predicted, opts.LineData{Value: []any{i + 1, v}})
	}
	if c.Nodes > 0 && c.HasMissRate {
		now = []opts.LineData{{Value: []any{c.Nodes, pct(c.MissRate)}}}
	}
	return predicted, now
}

// targetLine is the mark line of the target, or none.
func targetLine(c CurveChart) []any {
	if c.Target <= 0 {
		return []any{}
	}
	return []any{opts.MarkLineNameYAxisItem{Name: "Target", YAxis: pct(c.Target)}}
}

// pct is a fraction in percent, to two decimals.
func pct(f float64) float64 { return math.Round(f*1e4) / 100 }

// curveOption returns the complete ECharts option of the chart, built
// with go-echarts as the other charts are, its tooltip drawn in the
// canvas for the same reason (see chartOption).
func curveOption(c CurveChart) map[string]any {
	predicted, now := curveSeries(c)
	line := charts.NewLine()
	line.SetGlobalOptions(
		charts.WithInitializationOpts(opts.Initialization{ChartID: chartDOMID(curveChartID), AssetsHost: echartsHost, Width: "100%", Height: "260px"}),
		charts.WithAnimation(false),
		charts.WithColorsOpts(opts.Colors{"#2f6fde", "#d9480f"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "56", Right: "20", Top: "36", Bottom: "40"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "nodes", Min: 1, Max: 8, MinInterval: 1}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "%", Min: 0, Max: 100}),
	)
	seriesOpts := []charts.SeriesOpts{
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), SymbolSize: 6, ConnectNulls: opts.Bool(false)}),
		charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"}, Label: &opts.Label{Show: opts.Bool(true), Formatter: "target {c} %"}}),
	}
	if c.Target > 0 {
		seriesOpts = append(seriesOpts, charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: "Target", YAxis: pct(c.Target)}))
	}
	line.AddSeries("Predicted", predicted, seriesOpts...)
	scatter := charts.NewScatter()
	var points []opts.ScatterData
	for _, p := range now {
		points = append(points, opts.ScatterData{Value: p.Value, SymbolSize: 12})
	}
	scatter.AddSeries("Now", points)
	line.Overlap(scatter)
	line.Validate()
	o := line.JSON()
	o["tooltip"] = map[string]any{"show": true, "trigger": "item", "renderMode": "richText"}
	return o
}

// curvePatch is the chart's part of a live update: its series' data and
// the target line.
func curvePatch(c CurveChart) ChartPatch {
	predicted, now := curveSeries(c)
	return ChartPatch{
		ElementID: chartDOMID(curveChartID),
		Option: PatchOption{
			XAxis: []AxisBounds{{Min: 1, Max: 8}},
			Series: []SeriesData{
				{Data: predicted, MarkLine: &MarkLineData{Data: targetLine(c)}},
				{Data: now},
			},
		},
	}
}
