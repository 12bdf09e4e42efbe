package scaling

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// CloudWatch is the Metrics backend "cloudwatch:<namespace>": nodes record
// their samples into Amazon CloudWatch, and the charts and the autoscaler
// read the pool's aggregates back from it.
//
// What it stores, per sample of node N (all Unit Count but Bytes):
//
//   - Items, Bytes, Requests, Hits, Misses with the dimension Node=N: the
//     per-node metrics, for the charts' Items, Bytes and Nodes;
//   - Requests, Hits, Misses without dimensions: the pool-wide metrics,
//     which CloudWatch sums over every node's data by itself.
//
// How Series reads a window (one GetMetricData call per 500 queries, pages
// followed):
//
//   - Requests, Hits and Misses: the Sum of the pool-wide metrics with
//     Period = step. The miss rate is computed from these sums (by
//     Point.MissRate), never averaged from per-node rates. They do not
//     depend on ListMetrics, which can take minutes to list a new node's
//     metrics: the autoscaler's inputs count a new node from its first
//     sample.
//   - Items, Bytes and Nodes: ListMetrics finds the Node dimensions of the
//     Items metric (recently active ones only, when the window starts
//     within 3 hours), then one query per node and metric takes the
//     Average at the finest period the data has (1 s at high resolution,
//     see below). A node counts in Nodes for a step if it has a datapoint
//     in it, and its Items and Bytes for the step are those of its last
//     datapoint in it: exactly the last sample's at 1-second resolution,
//     the average of its last minute at standard resolution.
//
// Data is stored at high resolution (StorageResolution 1) by default, so
// that steps shorter than a minute (a shortened autoscaler period) and the
// last-value rule above work; CloudWatch keeps 1-second data for 3 hours,
// then 1-minute data for 15 days, and Series uses the finest period the
// window's age allows.
type CloudWatch struct {
	client     *cloudwatch.Client
	namespace  string
	resolution time.Duration
	now        func() time.Time
	timeout    time.Duration
	retry      backoff
}

// CloudWatchConfig configures NewCloudWatch.
type CloudWatchConfig struct {
	// Client is the CloudWatch client, from cloudwatch.NewFromConfig.
	// Required.
	Client *cloudwatch.Client
	// Namespace is where the metrics go, e.g. "PicPool". Required; it
	// must not start with "AWS/".
	Namespace string
	// StandardResolution stores datapoints at 1-minute resolution instead
	// of 1-second; Series then refuses steps under a minute.
	StandardResolution bool
	// Now is the clock Series uses to tell how old a window is (which
	// decides the periods CloudWatch still has). Default time.Now.
	Now func() time.Time
	// Timeout bounds each Record, Series and Totals call, the tries again
	// after a refusal (throttling, a server error) included: a node
	// publishing its statistics never waits longer. Default 10 s.
	Timeout time.Duration
	// Backoff is the first wait before a refused call is made again; it
	// doubles up to 20 × Backoff. Default 1 s.
	Backoff time.Duration
}

// Metric and dimension names in the namespace.
const (
	metricItems    = "Items"
	metricBytes    = "Bytes"
	metricRequests = "Requests"
	metricHits     = "Hits"
	metricMisses   = "Misses"
	dimensionNode  = "Node"
)

// CloudWatch API limits the backend works within.
const (
	maxDatumsPerPut    = 1000 // PutMetricData: metrics per request
	maxQueriesPerGet   = 500  // GetMetricData: queries per request
	maxDimensionValue  = 1024
	maxNamespaceLength = 255
)

// ErrStep is returned by Series for a step CloudWatch cannot aggregate by.
var ErrStep = errors.New("scaling: invalid metrics step")

var _ Metrics = (*CloudWatch)(nil)

// NewCloudWatch returns a CloudWatch backend for cfg.
func NewCloudWatch(cfg CloudWatchConfig) (*CloudWatch, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("scaling: cloudwatch: no client")
	case cfg.Namespace == "" || len(cfg.Namespace) > maxNamespaceLength:
		return nil, fmt.Errorf("scaling: cloudwatch: namespace %q must be 1 to %d characters", cfg.Namespace, maxNamespaceLength)
	case len(cfg.Namespace) >= 4 && cfg.Namespace[:4] == "AWS/":
		return nil, fmt.Errorf("scaling: cloudwatch: namespace %q: AWS/ is reserved for AWS services", cfg.Namespace)
	}
	c := &CloudWatch{client: cfg.Client, namespace: cfg.Namespace, resolution: time.Second, now: cfg.Now,
		timeout: cmpOr(cfg.Timeout, 10*time.Second), retry: backoff{first: cfg.Backoff}.withDefaults(nil)}
	if cfg.StandardResolution {
		c.resolution = time.Minute
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Record stores samples, in as few PutMetricData calls as CloudWatch's
// limit of 1000 data per call allows (the SDK gzips bodies of 10 KiB and
// more), within Timeout. CloudWatch takes each call whole or not at all; a
// failed call leaves earlier calls' data stored.
func (c *CloudWatch) Record(ctx context.Context, samples []Sample) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res := aws.Int32(int32(c.resolution / time.Second))
	var data []types.MetricDatum
	for _, s := range samples {
		if err := checkSample(s); err != nil {
			return err
		}
		node := []types.Dimension{{Name: aws.String(dimensionNode), Value: aws.String(s.Node)}}
		datum := func(name string, dims []types.Dimension, v int64, unit types.StandardUnit) types.MetricDatum {
			return types.MetricDatum{MetricName: aws.String(name), Dimensions: dims, Timestamp: aws.Time(s.Time),
				Value: aws.Float64(float64(v)), Unit: unit, StorageResolution: res}
		}
		data = append(data,
			datum(metricItems, node, s.Items, types.StandardUnitCount),
			datum(metricBytes, node, s.Bytes, types.StandardUnitBytes),
			datum(metricRequests, node, s.Requests, types.StandardUnitCount),
			datum(metricHits, node, s.Hits, types.StandardUnitCount),
			datum(metricMisses, node, s.Misses, types.StandardUnitCount),
			datum(metricRequests, nil, s.Requests, types.StandardUnitCount),
			datum(metricHits, nil, s.Hits, types.StandardUnitCount),
			datum(metricMisses, nil, s.Misses, types.StandardUnitCount),
		)
	}
	for batch := range slices.Chunk(data, maxDatumsPerPut) {
		err := c.retry.do(ctx, "put metric data", func(ctx context.Context) error {
			_, err := c.client.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(c.namespace), MetricData: batch})
			return err
		})
		if err != nil {
			return fmt.Errorf("scaling: cloudwatch: put metric data: %w", err)
		}
	}
	return nil
}

// checkSample refuses a sample CloudWatch would refuse, or store wrongly.
func checkSample(s Sample) error {
	switch {
	case s.Node == "" || len(s.Node) > maxDimensionValue:
		return fmt.Errorf("scaling: cloudwatch: sample node %q must be 1 to %d characters", s.Node, maxDimensionValue)
	case s.Time.IsZero():
		return fmt.Errorf("scaling: cloudwatch: sample of node %q has no time", s.Node)
	case s.Items < 0 || s.Bytes < 0 || s.Requests < 0 || s.Hits < 0 || s.Misses < 0:
		return fmt.Errorf("scaling: cloudwatch: sample of node %q has a negative count: %+v", s.Node, s)
	}
	return nil
}

// Series returns the pool's Points for [from, to) by step; see the type's
// documentation for how each field is read. step must be a period
// CloudWatch aggregates by (1, 5, 10, 20 or 30 s, or a multiple of a
// minute) and no finer than the storage resolution; otherwise the error
// matches ErrStep.
func (c *CloudWatch) Series(ctx context.Context, from, to time.Time, step time.Duration) ([]Point, error) {
	if err := c.CheckStep(step); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	from, points := emptyPoints(from, to, step)
	if len(points) == 0 {
		return points, nil
	}
	age := c.now().Sub(from)
	nodes, err := c.nodes(ctx, age <= 3*time.Hour)
	if err != nil {
		return nil, err
	}
	fine := c.finePeriod(age, step)

	// The queries: pool-wide sums, then per node its Items and Bytes.
	queries := []types.MetricDataQuery{
		c.query("requests", metricRequests, nil, types.StatisticSum, step),
		c.query("hits", metricHits, nil, types.StatisticSum, step),
		c.query("misses", metricMisses, nil, types.StatisticSum, step),
	}
	for i, n := range nodes {
		dims := []types.Dimension{{Name: aws.String(dimensionNode), Value: aws.String(n)}}
		queries = append(queries,
			c.query("items_"+strconv.Itoa(i), metricItems, dims, types.StatisticAverage, fine),
			c.query("bytes_"+strconv.Itoa(i), metricBytes, dims, types.StatisticAverage, fine))
	}
	results := map[string]*datapoints{}
	for batch := range slices.Chunk(queries, maxQueriesPerGet) {
		if err := c.getMetricData(ctx, batch, from, to, results); err != nil {
			return nil, err
		}
	}

	index := func(t time.Time) (int, bool) {
		i := int(t.Sub(from) / step)
		return i, !t.Before(from) && i < len(points)
	}
	sums := []struct {
		id  string
		add func(p *Point, v int64)
	}{
		{"requests", func(p *Point, v int64) { p.Requests += v }},
		{"hits", func(p *Point, v int64) { p.Hits += v }},
		{"misses", func(p *Point, v int64) { p.Misses += v }},
	}
	for _, sum := range sums {
		for _, dp := range results[sum.id].all() {
			if i, ok := index(dp.t); ok {
				points[i].Reported = true
				sum.add(&points[i], round(dp.v))
			}
		}
	}
	for i := range nodes {
		items := lastPerStep(results["items_"+strconv.Itoa(i)].all(), index)
		bytes := lastPerStep(results["bytes_"+strconv.Itoa(i)].all(), index)
		for j, v := range items {
			points[j].Reported = true
			points[j].Nodes++
			points[j].Items += round(v)
			points[j].Bytes += round(bytes[j])
		}
	}
	return points, nil
}

// emptyPoints returns from and to's steps, from and to floored to a
// multiple of step, without data yet.
func emptyPoints(from, to time.Time, step time.Duration) (time.Time, []Point) {
	from, to = floorTime(from, step), floorTime(to, step)
	points := []Point{}
	for t := from; t.Before(to); t = t.Add(step) {
		points = append(points, Point{Start: t})
	}
	return from, points
}

// CheckStep returns an error matching ErrStep if Series cannot take step:
// CloudWatch aggregates by 1, 5, 10, 20 or 30 s or by whole minutes, and no
// finer than the storage resolution. NewAutoscaler calls it, so that an
// autoscaler period CloudWatch cannot serve fails at start, not every tick.
func (c *CloudWatch) CheckStep(step time.Duration) error {
	secs := int64(step / time.Second)
	switch {
	case step <= 0 || step%time.Second != 0:
		return fmt.Errorf("%w: %v is not a whole number of seconds", ErrStep, step)
	case secs%60 != 0 && secs != 1 && secs != 5 && secs != 10 && secs != 20 && secs != 30:
		return fmt.Errorf("%w: %v: CloudWatch periods are 1, 5, 10, 20, 30 s or multiples of a minute", ErrStep, step)
	case step < c.resolution:
		return fmt.Errorf("%w: %v is finer than the storage resolution %v", ErrStep, step, c.resolution)
	case secs > math.MaxInt32:
		return fmt.Errorf("%w: %v is too long", ErrStep, step)
	}
	return nil
}

// finePeriod is the period of the per-node queries: the storage
// resolution, or what CloudWatch still keeps of a window that age (1 min
// after 3 hours, 5 min after 15 days, 1 h after 63 days), and a divisor of
// step so that fine periods never straddle two steps.
func (c *CloudWatch) finePeriod(age, step time.Duration) time.Duration {
	fine := c.resolution
	switch {
	case age > 63*24*time.Hour:
		fine = time.Hour
	case age > 15*24*time.Hour:
		fine = 5 * time.Minute
	case age > 3*time.Hour:
		fine = max(fine, time.Minute)
	}
	if fine > step || step%fine != 0 {
		fine = step
	}
	return fine
}

// nodes returns the Node dimension values of the namespace's Items
// metrics, sorted, following ListMetrics' pages.
func (c *CloudWatch) nodes(ctx context.Context, recentOnly bool) ([]string, error) {
	in := &cloudwatch.ListMetricsInput{
		Namespace:  aws.String(c.namespace),
		MetricName: aws.String(metricItems),
		Dimensions: []types.DimensionFilter{{Name: aws.String(dimensionNode)}},
	}
	if recentOnly {
		in.RecentlyActive = types.RecentlyActivePt3h
	}
	var nodes []string
	for p := cloudwatch.NewListMetricsPaginator(c.client, in); p.HasMorePages(); {
		var out *cloudwatch.ListMetricsOutput
		err := c.retry.do(ctx, "list metrics", func(ctx context.Context) error {
			var err error
			out, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("scaling: cloudwatch: list metrics: %w", err)
		}
		for _, m := range out.Metrics {
			for _, d := range m.Dimensions {
				if aws.ToString(d.Name) == dimensionNode && len(m.Dimensions) == 1 {
					nodes = append(nodes, aws.ToString(d.Value))
				}
			}
		}
	}
	slices.Sort(nodes)
	return slices.Compact(nodes), nil
}

// query is a MetricStat query of one metric of the namespace.
func (c *CloudWatch) query(id, metric string, dims []types.Dimension, stat types.Statistic, period time.Duration) types.MetricDataQuery {
	return types.MetricDataQuery{
		Id: aws.String(id),
		MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String(c.namespace), MetricName: aws.String(metric), Dimensions: dims},
			Period: aws.Int32(int32(period / time.Second)),
			Stat:   aws.String(string(stat)),
		},
	}
}

// datapoints collects one query's results over pages.
type datapoints struct {
	t []time.Time
	v []float64
}

type datapoint struct {
	t time.Time
	v float64
}

// all returns the datapoints oldest first; nil-safe for queries that
// returned nothing.
func (d *datapoints) all() []datapoint {
	if d == nil {
		return nil
	}
	out := make([]datapoint, len(d.t))
	for i := range d.t {
		out[i] = datapoint{d.t[i], d.v[i]}
	}
	slices.SortStableFunc(out, func(a, b datapoint) int { return a.t.Compare(b.t) })
	return out
}

// getMetricData runs queries over [from, to), following pages, and adds
// each query's datapoints to results by query ID.
func (c *CloudWatch) getMetricData(ctx context.Context, queries []types.MetricDataQuery, from, to time.Time, results map[string]*datapoints) error {
	in := &cloudwatch.GetMetricDataInput{
		MetricDataQueries: queries,
		StartTime:         aws.Time(from),
		EndTime:           aws.Time(to),
		ScanBy:            types.ScanByTimestampAscending,
	}
	for p := cloudwatch.NewGetMetricDataPaginator(c.client, in); p.HasMorePages(); {
		var out *cloudwatch.GetMetricDataOutput
		err := c.retry.do(ctx, "get metric data", func(ctx context.Context) error {
			var err error
			out, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("scaling: cloudwatch: get metric data: %w", err)
		}
		for _, r := range out.MetricDataResults {
			if len(r.Timestamps) != len(r.Values) {
				return fmt.Errorf("scaling: cloudwatch: get metric data: query %s returned %d timestamps for %d values",
					aws.ToString(r.Id), len(r.Timestamps), len(r.Values))
			}
			d := results[aws.ToString(r.Id)]
			if d == nil {
				d = &datapoints{}
				results[aws.ToString(r.Id)] = d
			}
			d.t = append(d.t, r.Timestamps...)
			d.v = append(d.v, r.Values...)
		}
	}
	return nil
}

// lastPerStep returns, for each step with datapoints, the value of its
// last one; dps must be oldest first.
func lastPerStep(dps []datapoint, index func(time.Time) (int, bool)) map[int]float64 {
	last := map[int]float64{}
	for _, dp := range dps {
		if i, ok := index(dp.t); ok {
			last[i] = dp.v
		}
	}
	return last
}

// round converts a CloudWatch value (a float64) back to the count it was.
func round(v float64) int64 { return int64(math.Round(v)) }
