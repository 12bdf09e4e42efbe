package scaling

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Totals returns the pool's totals for [from, to) by step, what the
// autoscaler decides on, in one GetMetricData call: the Sum of the
// pool-wide Requests, Hits and Misses, and the SampleCount of Requests
// (one datapoint per node sample), so that the autoscaler can tell a
// complete window from one CloudWatch has not ingested all of yet.
// Points carry Requests, Hits, Misses and Samples only; Reported is set
// where any sample arrived. step must pass CheckStep.
func (c *CloudWatch) Totals(ctx context.Context, from, to time.Time, step time.Duration) ([]Point, error) {
	if err := c.CheckStep(step); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	from, points := emptyPoints(from, to, step)
	if len(points) == 0 {
		return points, nil
	}
	queries := []types.MetricDataQuery{
		c.query("requests", metricRequests, nil, types.StatisticSum, step),
		c.query("hits", metricHits, nil, types.StatisticSum, step),
		c.query("misses", metricMisses, nil, types.StatisticSum, step),
		c.query("samples", metricRequests, nil, types.StatisticSampleCount, step),
	}
	results := map[string]*datapoints{}
	if err := c.getMetricData(ctx, queries, from, to, results); err != nil {
		return nil, err
	}
	fields := map[string]func(p *Point, v int64){
		"requests": func(p *Point, v int64) { p.Requests += v },
		"hits":     func(p *Point, v int64) { p.Hits += v },
		"misses":   func(p *Point, v int64) { p.Misses += v },
		"samples":  func(p *Point, v int64) { p.Samples += v },
	}
	for id, add := range fields {
		for _, dp := range results[id].all() {
			if i := int(dp.t.Sub(from) / step); !dp.t.Before(from) && i < len(points) {
				points[i].Reported = true
				add(&points[i], round(dp.v))
			}
		}
	}
	return points, nil
}
