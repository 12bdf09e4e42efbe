package awsfake_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/picpool/picpool/internal/awsfake"
)

// now is the fake CloudWatch's clock in these tests.
var now = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// at returns now's day at hh:mm:ss.
func at(hh, mm, ss int) time.Time { return time.Date(2024, 5, 1, hh, mm, ss, 0, time.UTC) }

func newCloudWatch(t *testing.T, opts ...func(*cloudwatch.Options)) (*awsfake.Server, *cloudwatch.Client) {
	t.Helper()
	fake := awsfake.NewServer(awsfake.Config{Now: func() time.Time { return now }})
	t.Cleanup(fake.Close)
	return fake, cloudwatch.NewFromConfig(fake.AWSConfig(), opts...)
}

// datum is a one-value datum of metric "m" in dimension node=n1.
func datum(ts time.Time, v float64, resolution int32) types.MetricDatum {
	return types.MetricDatum{
		MetricName:        aws.String("m"),
		Dimensions:        []types.Dimension{{Name: aws.String("node"), Value: aws.String("n1")}},
		Timestamp:         aws.Time(ts),
		Value:             aws.Float64(v),
		StorageResolution: aws.Int32(resolution),
	}
}

func put(t *testing.T, cw *cloudwatch.Client, data ...types.MetricDatum) {
	t.Helper()
	if _, err := cw.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{Namespace: aws.String("Test"), MetricData: data}); err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
}

// stat is a MetricStat query of "m" in node=n1.
func stat(id, statistic string, period int32) types.MetricDataQuery {
	return types.MetricDataQuery{
		Id: aws.String(id),
		MetricStat: &types.MetricStat{
			Metric: &types.Metric{
				Namespace:  aws.String("Test"),
				MetricName: aws.String("m"),
				Dimensions: []types.Dimension{{Name: aws.String("node"), Value: aws.String("n1")}},
			},
			Period: aws.Int32(period),
			Stat:   aws.String(statistic),
		},
	}
}

// series is one result of GetMetricData, as compared by the tests.
type series struct {
	ID     string
	Times  []time.Time
	Values []float64
	Status types.StatusCode
}

func results(out *cloudwatch.GetMetricDataOutput) []series {
	var got []series
	for _, r := range out.MetricDataResults {
		s := series{ID: aws.ToString(r.Id), Values: r.Values, Status: r.StatusCode}
		for _, ts := range r.Timestamps {
			s.Times = append(s.Times, ts.UTC())
		}
		got = append(got, s)
	}
	return got
}

func TestGetMetricDataAggregatesPerPeriod(t *testing.T) {
	_, cw := newCloudWatch(t)
	put(t, cw,
		datum(at(11, 50, 1), 1, 1),
		datum(at(11, 50, 2), 2, 1),
		datum(at(11, 50, 59), 4, 1),
		datum(at(11, 52, 30), 8, 1),
		// Standard resolution: stored at its minute, 11:52:00.
		datum(at(11, 52, 45), 16, 60),
	)
	put(t, cw, types.MetricDatum{ // a statistic set, in the same minute
		MetricName:        aws.String("m"),
		Dimensions:        []types.Dimension{{Name: aws.String("node"), Value: aws.String("n1")}},
		Timestamp:         aws.Time(at(11, 52, 31)),
		StatisticValues:   &types.StatisticSet{SampleCount: aws.Float64(3), Sum: aws.Float64(30), Minimum: aws.Float64(5), Maximum: aws.Float64(15)},
		StorageResolution: aws.Int32(1),
	}, types.MetricDatum{ // values with counts: 2×10 + 1×20
		MetricName:        aws.String("m"),
		Dimensions:        []types.Dimension{{Name: aws.String("node"), Value: aws.String("n1")}},
		Timestamp:         aws.Time(at(11, 55, 0)),
		Values:            []float64{10, 20},
		Counts:            []float64{2, 1},
		StorageResolution: aws.Int32(1),
	})

	tests := []struct {
		name    string
		queries []types.MetricDataQuery
		from    time.Time
		to      time.Time
		scanBy  types.ScanBy
		want    []series
	}{
		{
			name: "every statistic per minute, newest first by default, gaps left out",
			queries: []types.MetricDataQuery{
				stat("sum", "Sum", 60), stat("avg", "Average", 60), stat("lo", "Minimum", 60),
				stat("hi", "Maximum", 60), stat("n", "SampleCount", 60),
			},
			from: at(11, 50, 0), to: at(12, 0, 0),
			want: []series{
				{"sum", []time.Time{at(11, 55, 0), at(11, 52, 0), at(11, 50, 0)}, []float64{40, 54, 7}, types.StatusCodeComplete},
				{"avg", []time.Time{at(11, 55, 0), at(11, 52, 0), at(11, 50, 0)}, []float64{40.0 / 3, 54.0 / 5, 7.0 / 3}, types.StatusCodeComplete},
				{"lo", []time.Time{at(11, 55, 0), at(11, 52, 0), at(11, 50, 0)}, []float64{10, 5, 1}, types.StatusCodeComplete},
				{"hi", []time.Time{at(11, 55, 0), at(11, 52, 0), at(11, 50, 0)}, []float64{20, 16, 4}, types.StatusCodeComplete},
				{"n", []time.Time{at(11, 55, 0), at(11, 52, 0), at(11, 50, 0)}, []float64{3, 5, 3}, types.StatusCodeComplete},
			},
		},
		{
			name:    "ascending",
			queries: []types.MetricDataQuery{stat("sum", "Sum", 60)},
			from:    at(11, 50, 0), to: at(12, 0, 0), scanBy: types.ScanByTimestampAscending,
			want: []series{{"sum", []time.Time{at(11, 50, 0), at(11, 52, 0), at(11, 55, 0)}, []float64{7, 54, 40}, types.StatusCodeComplete}},
		},
		{
			name:    "10 s periods: the standard-resolution datum sits at its minute's start",
			queries: []types.MetricDataQuery{stat("sum", "Sum", 10)},
			from:    at(11, 50, 0), to: at(11, 53, 0), scanBy: types.ScanByTimestampAscending,
			want: []series{{"sum", []time.Time{at(11, 50, 0), at(11, 50, 50), at(11, 52, 0), at(11, 52, 30)}, []float64{3, 4, 16, 38}, types.StatusCodeComplete}},
		},
		{
			name:    "start time rounded down to the period for 10 s, end time exclusive",
			queries: []types.MetricDataQuery{stat("sum", "Sum", 10)},
			from:    at(11, 50, 9), to: at(11, 50, 59), scanBy: types.ScanByTimestampAscending,
			want: []series{{"sum", []time.Time{at(11, 50, 0)}, []float64{3}, types.StatusCodeComplete}},
		},
		{
			name:    "start time rounded down to the minute for 5-minute periods",
			queries: []types.MetricDataQuery{stat("sum", "Sum", 300)},
			from:    at(11, 50, 30), to: at(12, 0, 0), scanBy: types.ScanByTimestampAscending,
			want: []series{{"sum", []time.Time{at(11, 50, 0), at(11, 55, 0)}, []float64{61, 40}, types.StatusCodeComplete}},
		},
		{
			name:    "buckets run from the rounded start, not from the epoch",
			queries: []types.MetricDataQuery{stat("sum", "Sum", 120)},
			from:    at(11, 51, 0), to: at(11, 57, 0), scanBy: types.ScanByTimestampAscending,
			want: []series{{"sum", []time.Time{at(11, 51, 0), at(11, 55, 0)}, []float64{54, 40}, types.StatusCodeComplete}},
		},
		{
			name:    "a window without data returns no datapoint",
			queries: []types.MetricDataQuery{stat("sum", "Sum", 60)},
			from:    at(11, 56, 0), to: at(12, 0, 0),
			want: []series{{"sum", nil, nil, types.StatusCodeComplete}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := cw.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
				MetricDataQueries: tt.queries, StartTime: aws.Time(tt.from), EndTime: aws.Time(tt.to), ScanBy: tt.scanBy,
			})
			if err != nil {
				t.Fatalf("GetMetricData: %v", err)
			}
			if diff := cmp.Diff(tt.want, results(out), cmp.Comparer(approx), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("results mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(a)) }

func TestGetMetricDataOldStartNeedsMinutePeriods(t *testing.T) {
	_, cw := newCloudWatch(t)
	put(t, cw, datum(at(8, 30, 5), 1, 1), datum(at(8, 30, 15), 2, 1))
	for _, tt := range []struct {
		period int32
		want   []float64
	}{
		{10, nil}, // start more than 3 hours ago: sub-minute periods return nothing
		{60, []float64{3}},
	} {
		out, err := cw.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
			MetricDataQueries: []types.MetricDataQuery{stat("sum", "Sum", tt.period)},
			StartTime:         aws.Time(at(8, 0, 0)), EndTime: aws.Time(at(9, 0, 0)),
		})
		if err != nil {
			t.Fatalf("GetMetricData: %v", err)
		}
		if diff := cmp.Diff(tt.want, out.MetricDataResults[0].Values, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("period %d: values mismatch (-want +got):\n%s", tt.period, diff)
		}
	}
}

func TestGetMetricDataUnitAndDimensions(t *testing.T) {
	_, cw := newCloudWatch(t)
	d := datum(at(11, 50, 0), 5, 1)
	d.Unit = types.StandardUnitBytes
	other := datum(at(11, 50, 0), 7, 1)
	other.Dimensions = []types.Dimension{{Name: aws.String("node"), Value: aws.String("n2")}}
	put(t, cw, d, datum(at(11, 50, 1), 1, 1), other)

	bytes := stat("b", "Sum", 60)
	bytes.MetricStat.Unit = types.StandardUnitBytes
	out, err := cw.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
		MetricDataQueries: []types.MetricDataQuery{stat("all", "Sum", 60), bytes},
		StartTime:         aws.Time(at(11, 0, 0)), EndTime: aws.Time(at(12, 0, 0)),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []series{
		{"all", []time.Time{at(11, 50, 0)}, []float64{6}, types.StatusCodeComplete}, // n2's 7 is another metric
		{"b", []time.Time{at(11, 50, 0)}, []float64{5}, types.StatusCodeComplete},
	}
	if diff := cmp.Diff(want, results(out)); diff != "" {
		t.Errorf("results mismatch (-want +got):\n%s", diff)
	}
}

func TestGetMetricDataPages(t *testing.T) {
	_, cw := newCloudWatch(t)
	put(t, cw, datum(at(11, 50, 0), 1, 1), datum(at(11, 51, 0), 2, 1), datum(at(11, 52, 0), 3, 1))
	in := &cloudwatch.GetMetricDataInput{
		MetricDataQueries: []types.MetricDataQuery{stat("a", "Sum", 60), stat("b", "Maximum", 60)},
		StartTime:         aws.Time(at(11, 0, 0)), EndTime: aws.Time(at(12, 0, 0)),
		ScanBy: types.ScanByTimestampAscending, MaxDatapoints: aws.Int32(4),
	}
	first, err := cw.GetMetricData(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	wantFirst := []series{
		{"a", []time.Time{at(11, 50, 0), at(11, 51, 0), at(11, 52, 0)}, []float64{1, 2, 3}, types.StatusCodeComplete},
		{"b", []time.Time{at(11, 50, 0)}, []float64{1}, types.StatusCodePartialData},
	}
	if diff := cmp.Diff(wantFirst, results(first)); diff != "" || first.NextToken == nil {
		t.Fatalf("first page mismatch (-want +got):\n%s\nNextToken %v, want one", diff, first.NextToken)
	}

	var pages [][]series
	p := cloudwatch.NewGetMetricDataPaginator(cw, in)
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, results(out))
	}
	want := [][]series{wantFirst, {
		{"a", nil, nil, types.StatusCodeComplete},
		{"b", []time.Time{at(11, 51, 0), at(11, 52, 0)}, []float64{2, 3}, types.StatusCodeComplete},
	}}
	if diff := cmp.Diff(want, pages, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("pages mismatch (-want +got):\n%s", diff)
	}
}

func TestPutMetricDataGzip(t *testing.T) {
	for _, tt := range []struct {
		name     string
		minBytes int64 // RequestMinCompressSizeBytes
		want     bool
	}{
		{"small body sent plain by default", 10240, false},
		{"compressed when asked", 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake, cw := newCloudWatch(t, func(o *cloudwatch.Options) { o.RequestMinCompressSizeBytes = tt.minBytes })
			put(t, cw, datum(at(11, 50, 0), 42, 1))
			out, err := cw.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
				MetricDataQueries: []types.MetricDataQuery{stat("s", "Sum", 60)},
				StartTime:         aws.Time(at(11, 0, 0)), EndTime: aws.Time(at(12, 0, 0)),
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.MetricDataResults[0].Values; len(got) != 1 || got[0] != 42 {
				t.Errorf("values = %v, want [42]", got)
			}
			want := []awsfake.Call{
				{Service: "monitoring", Operation: "PutMetricData", Gzip: tt.want},
				{Service: "monitoring", Operation: "GetMetricData"},
			}
			if diff := cmp.Diff(want, fake.Calls(), cmpopts.IgnoreFields(awsfake.Call{}, "Time")); diff != "" {
				t.Errorf("calls mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMetricLag checks CloudWatch's ingestion delay: datapoints come back
// from GetMetricData only once their lag has passed, by the fake's clock.
func TestMetricLag(t *testing.T) {
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	fake := awsfake.NewServer(awsfake.Config{Now: func() time.Time { return *clock.Load() }, MetricLag: 90 * time.Second, MetricLagJitter: 30 * time.Second})
	t.Cleanup(fake.Close)
	cw := cloudwatch.NewFromConfig(fake.AWSConfig())
	put(t, cw, datum(at(11, 59, 0), 42, 1))
	sum := func(at time.Time) []float64 {
		clock.Store(&at)
		out, err := cw.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
			MetricDataQueries: []types.MetricDataQuery{stat("s", "Sum", 60)},
			StartTime:         aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Hour)),
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.MetricDataResults[0].Values
	}
	for _, tt := range []struct {
		after time.Duration
		want  []float64
	}{
		{0, nil},
		{89 * time.Second, nil},
		{2 * time.Minute, []float64{42}},
	} {
		if got := sum(now.Add(tt.after)); !cmp.Equal(got, tt.want, cmpopts.EquateEmpty()) {
			t.Errorf("%v after the put: values %v, want %v", tt.after, got, tt.want)
		}
	}
}

func TestListMetrics(t *testing.T) {
	fake := awsfake.NewServer(awsfake.Config{Now: func() time.Time { return now }})
	defer fake.Close()
	cw := cloudwatch.NewFromConfig(fake.AWSConfig())
	dim := func(n, v string) types.Dimension { return types.Dimension{Name: aws.String(n), Value: aws.String(v)} }
	for _, d := range []struct {
		ns, name string
		dims     []types.Dimension
	}{
		{"Test", "Items", []types.Dimension{dim("Node", "b:1")}},
		{"Test", "Items", []types.Dimension{dim("Node", "a:1")}},
		{"Test", "Hits", nil},
		{"Test", "Hits", []types.Dimension{dim("Node", "a:1")}},
		{"Other", "Items", []types.Dimension{dim("Node", "a:1")}},
	} {
		_, err := cw.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{Namespace: aws.String(d.ns), MetricData: []types.MetricDatum{
			{MetricName: aws.String(d.name), Dimensions: d.dims, Timestamp: aws.Time(at(11, 0, 0)), Value: aws.Float64(1)},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	type metric struct {
		Namespace, Name string
		Dims            map[string]string
	}
	list := func(in *cloudwatch.ListMetricsInput) []metric {
		t.Helper()
		out, err := cw.ListMetrics(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		var got []metric
		for _, m := range out.Metrics {
			dims := map[string]string{}
			for _, d := range m.Dimensions {
				dims[aws.ToString(d.Name)] = aws.ToString(d.Value)
			}
			got = append(got, metric{aws.ToString(m.Namespace), aws.ToString(m.MetricName), dims})
		}
		return got
	}
	got := list(&cloudwatch.ListMetricsInput{
		Namespace: aws.String("Test"), MetricName: aws.String("Items"),
		Dimensions: []types.DimensionFilter{{Name: aws.String("Node")}},
	})
	want := []metric{{"Test", "Items", map[string]string{"Node": "a:1"}}, {"Test", "Items", map[string]string{"Node": "b:1"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListMetrics(Items, Node) mismatch (-want +got):\n%s", diff)
	}
	got = list(&cloudwatch.ListMetricsInput{Namespace: aws.String("Test"), Dimensions: []types.DimensionFilter{{Name: aws.String("Node"), Value: aws.String("a:1")}}})
	want = []metric{{"Test", "Hits", map[string]string{"Node": "a:1"}}, {"Test", "Items", map[string]string{"Node": "a:1"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListMetrics(Node=a:1) mismatch (-want +got):\n%s", diff)
	}
	// Data put at 11:00 is within 3 hours of 12:00: recently active.
	if got := list(&cloudwatch.ListMetricsInput{Namespace: aws.String("Other"), RecentlyActive: types.RecentlyActivePt3h}); len(got) != 1 {
		t.Errorf("ListMetrics(Other, PT3H) = %v, want one metric", got)
	}
}

func TestListMetricsRecentlyActive(t *testing.T) {
	var clock atomic.Int64 // Unix seconds; the fake reads it from its handlers' goroutines
	clock.Store(at(11, 0, 0).Unix())
	fake := awsfake.NewServer(awsfake.Config{Now: func() time.Time { return time.Unix(clock.Load(), 0) }})
	defer fake.Close()
	cw := cloudwatch.NewFromConfig(fake.AWSConfig())
	put(t, cw, datum(at(11, 0, 0), 1, 1))
	clock.Add(3*3600 + 1)
	for _, tt := range []struct {
		active types.RecentlyActive
		want   int
	}{{"", 1}, {types.RecentlyActivePt3h, 0}} {
		out, err := cw.ListMetrics(t.Context(), &cloudwatch.ListMetricsInput{Namespace: aws.String("Test"), RecentlyActive: tt.active})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Metrics) != tt.want {
			t.Errorf("ListMetrics(RecentlyActive %q) = %d metrics, want %d", tt.active, len(out.Metrics), tt.want)
		}
	}
}

func TestCloudWatchErrors(t *testing.T) {
	_, cw := newCloudWatch(t)
	good := func() *cloudwatch.PutMetricDataInput {
		return &cloudwatch.PutMetricDataInput{Namespace: aws.String("Test"), MetricData: []types.MetricDatum{datum(at(11, 0, 0), 1, 1)}}
	}
	query := func(edit func(*cloudwatch.GetMetricDataInput)) error {
		in := &cloudwatch.GetMetricDataInput{
			MetricDataQueries: []types.MetricDataQuery{stat("a", "Sum", 60)},
			StartTime:         aws.Time(at(11, 0, 0)), EndTime: aws.Time(at(12, 0, 0)),
		}
		edit(in)
		_, err := cw.GetMetricData(t.Context(), in)
		return err
	}
	putWith := func(edit func(*cloudwatch.PutMetricDataInput)) error {
		in := good()
		edit(in)
		_, err := cw.PutMetricData(t.Context(), in)
		return err
	}
	tests := []struct {
		name string
		err  error
		code string // the query-compatible error code
		as   any    // the modelled error type, when there is one
	}{
		{"AWS/ namespace", putWith(func(in *cloudwatch.PutMetricDataInput) { in.Namespace = aws.String("AWS/EC2") }),
			"InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"NaN value", putWith(func(in *cloudwatch.PutMetricDataInput) { in.MetricData[0].Value = aws.Float64(math.NaN()) }),
			"InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"timestamp 3 hours ahead", putWith(func(in *cloudwatch.PutMetricDataInput) { in.MetricData[0].Timestamp = aws.Time(now.Add(3 * time.Hour)) }),
			"InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"timestamp 15 days back", putWith(func(in *cloudwatch.PutMetricDataInput) {
			in.MetricData[0].Timestamp = aws.Time(now.Add(-15 * 24 * time.Hour))
		}),
			"InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"resolution 10", putWith(func(in *cloudwatch.PutMetricDataInput) { in.MetricData[0].StorageResolution = aws.Int32(10) }),
			"InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"value and values", putWith(func(in *cloudwatch.PutMetricDataInput) { in.MetricData[0].Values = []float64{1} }),
			"InvalidParameterCombination", new(*types.InvalidParameterCombinationException)},
		{"period 7", query(func(in *cloudwatch.GetMetricDataInput) { in.MetricDataQueries[0].MetricStat.Period = aws.Int32(7) }),
			"InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"percentile", query(func(in *cloudwatch.GetMetricDataInput) { in.MetricDataQueries[0].MetricStat.Stat = aws.String("p99") }),
			"InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"duplicate ids", query(func(in *cloudwatch.GetMetricDataInput) {
			in.MetricDataQueries = append(in.MetricDataQueries, stat("a", "Maximum", 60))
		}), "InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"id starting with a capital", query(func(in *cloudwatch.GetMetricDataInput) { in.MetricDataQueries[0].Id = aws.String("A") }),
			"InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"expression", query(func(in *cloudwatch.GetMetricDataInput) {
			in.MetricDataQueries[0] = types.MetricDataQuery{Id: aws.String("e"), Expression: aws.String("SUM(METRICS())")}
		}), "InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"start not before end", query(func(in *cloudwatch.GetMetricDataInput) { in.EndTime = in.StartTime }),
			"InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"bad next token", query(func(in *cloudwatch.GetMetricDataInput) { in.NextToken = aws.String("nope") }),
			"InvalidNextToken", new(*types.InvalidNextToken)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var api smithy.APIError
			if !errors.As(tt.err, &api) {
				t.Fatalf("error = %v, want an AWS API error", tt.err)
			}
			if api.ErrorCode() != tt.code || api.ErrorFault() != smithy.FaultClient {
				t.Errorf("error code, fault = %q, %v; want %q, client", api.ErrorCode(), api.ErrorFault(), tt.code)
			}
			if !errors.As(tt.err, tt.as) {
				t.Errorf("error = %v (%T), want it to match %T", tt.err, tt.err, tt.as)
			}
		})
	}
}

// TestRequestsMustBeSigned sends requests by hand: unsigned, and signed
// for another service.
func TestRequestsMustBeSigned(t *testing.T) {
	fake := awsfake.NewServer(awsfake.Config{})
	defer fake.Close()
	for _, tt := range []struct {
		name, auth string
		status     int
	}{
		{"unsigned", "", http.StatusForbidden},
		{"signed for ec2", "AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00", http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost,
				fake.URL+"/service/GraniteServiceVersion20100801/operation/ListMetrics", strings.NewReader("\xa0"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
			req.Header.Set("Content-Type", "application/cbor")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
}
