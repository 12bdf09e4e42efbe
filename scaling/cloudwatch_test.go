package scaling

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/picpool/picpool/internal/awsfake"
)

// cwNow is the clock of the fake CloudWatch and of the backend in these
// tests: ten minutes after the samples below.
var cwNow = time.Date(2024, 5, 1, 12, 10, 0, 0, time.UTC)

func cwAt(mm, ss int) time.Time { return time.Date(2024, 5, 1, 12, mm, ss, 0, time.UTC) }

func newCloudWatchBackend(t *testing.T, standard bool) (*CloudWatch, *awsfake.Server) {
	t.Helper()
	fake := awsfake.NewServer(awsfake.Config{Now: func() time.Time { return cwNow }})
	t.Cleanup(fake.Close)
	cw, err := NewCloudWatch(CloudWatchConfig{
		Client:             cloudwatch.NewFromConfig(fake.AWSConfig()),
		Namespace:          "PicPool/test",
		StandardResolution: standard,
		Now:                func() time.Time { return cwNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return cw, fake
}

// samples of two nodes: minute 0 has both (a twice), minute 1 none,
// minute 2 has a, minute 3 has b with no lookups.
var cwSamples = []Sample{
	{Node: "10.0.0.1:5100", Time: cwAt(0, 5), Items: 10, Bytes: 100, Requests: 5, Hits: 3, Misses: 1},
	{Node: "10.0.0.1:5100", Time: cwAt(0, 10), Items: 12, Bytes: 120, Requests: 4, Hits: 2, Misses: 2},
	{Node: "10.0.0.2:5100", Time: cwAt(0, 30), Items: 7, Bytes: 70, Requests: 10, Hits: 1, Misses: 9},
	{Node: "10.0.0.1:5100", Time: cwAt(2, 55), Items: 20, Bytes: 200, Requests: 8, Hits: 4, Misses: 4},
	{Node: "10.0.0.2:5100", Time: cwAt(3, 0), Items: 9, Bytes: 90},
}

func TestCloudWatchSeries(t *testing.T) {
	cw, _ := newCloudWatchBackend(t, false)
	if err := cw.Record(t.Context(), cwSamples); err != nil {
		t.Fatal(err)
	}
	minutes := []Point{
		{Start: cwAt(0, 0), Reported: true, Nodes: 2, Items: 12 + 7, Bytes: 120 + 70, Requests: 19, Hits: 6, Misses: 12},
		{Start: cwAt(1, 0)},
		{Start: cwAt(2, 0), Reported: true, Nodes: 1, Items: 20, Bytes: 200, Requests: 8, Hits: 4, Misses: 4},
		{Start: cwAt(3, 0), Reported: true, Nodes: 1, Items: 9, Bytes: 90},
	}
	tests := []struct {
		name     string
		from, to time.Time
		step     time.Duration
		want     []Point
	}{
		{"minutes, a gap, a minute without lookups", cwAt(0, 0), cwAt(4, 0), time.Minute, minutes},
		{"from and to truncated to the step", cwAt(0, 30), cwAt(4, 59), time.Minute, minutes},
		{"10-second steps", cwAt(0, 0), cwAt(0, 40), 10 * time.Second, []Point{
			{Start: cwAt(0, 0), Reported: true, Nodes: 1, Items: 10, Bytes: 100, Requests: 5, Hits: 3, Misses: 1},
			{Start: cwAt(0, 10), Reported: true, Nodes: 1, Items: 12, Bytes: 120, Requests: 4, Hits: 2, Misses: 2},
			{Start: cwAt(0, 20)},
			{Start: cwAt(0, 30), Reported: true, Nodes: 1, Items: 7, Bytes: 70, Requests: 10, Hits: 1, Misses: 9},
		}},
		{"two-minute steps keep each node's last value", cwAt(0, 0), cwAt(4, 0), 2 * time.Minute, []Point{
			{Start: cwAt(0, 0), Reported: true, Nodes: 2, Items: 12 + 7, Bytes: 120 + 70, Requests: 19, Hits: 6, Misses: 12},
			{Start: cwAt(2, 0), Reported: true, Nodes: 2, Items: 20 + 9, Bytes: 200 + 90, Requests: 8, Hits: 4, Misses: 4},
		}},
		{"an empty window", cwAt(5, 0), cwAt(5, 0), time.Minute, []Point{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cw.Series(t.Context(), tt.from, tt.to, tt.step)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Series mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCloudWatchMissRateFromSums checks the pool's miss rate is the ratio
// of the summed counts, which differs here from the mean of the two nodes'
// rates (1/4 and 9/10).
func TestCloudWatchMissRateFromSums(t *testing.T) {
	cw, _ := newCloudWatchBackend(t, false)
	err := cw.Record(t.Context(), []Sample{
		{Node: "a:1", Time: cwAt(0, 5), Hits: 3, Misses: 1, Requests: 4},
		{Node: "b:1", Time: cwAt(0, 5), Hits: 1, Misses: 9, Requests: 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	points, err := cw.Series(t.Context(), cwAt(0, 0), cwAt(1, 0), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	rate, ok := points[0].MissRate()
	if want := 10.0 / 14; !ok || rate != want {
		t.Errorf("MissRate() = %v, %v; want %v (not the mean of the nodes' rates, %v)", rate, ok, want, (0.25+0.9)/2)
	}
}

// TestCloudWatchBatches records enough samples for two PutMetricData
// calls (8 data per sample, at most 1000 per call, gzipped by the SDK
// above 10 KiB) and enough nodes for two GetMetricData calls (at most 500
// queries per call: 3 pool-wide, then 2 per node).
func TestCloudWatchBatches(t *testing.T) {
	cw, fake := newCloudWatchBackend(t, false)
	const nodes = 260
	var samples []Sample
	for i := range nodes {
		samples = append(samples, Sample{Node: fmt.Sprintf("10.0.%d.%d:5100", i/250, i%250+1), Time: cwAt(0, 5),
			Items: 1, Bytes: 2, Requests: 3, Hits: 2, Misses: 1})
	}
	if err := cw.Record(t.Context(), samples); err != nil {
		t.Fatal(err)
	}
	got, err := cw.Series(t.Context(), cwAt(0, 0), cwAt(1, 0), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{{Start: cwAt(0, 0), Reported: true, Nodes: nodes, Items: nodes, Bytes: 2 * nodes, Requests: 3 * nodes, Hits: 2 * nodes, Misses: nodes}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Series mismatch (-want +got):\n%s", diff)
	}
	calls := fake.Calls()
	wantCalls := []awsfake.Call{
		{Service: "monitoring", Operation: "PutMetricData", Gzip: true}, // 1000 data
		{Service: "monitoring", Operation: "PutMetricData", Gzip: true}, // 1000
		{Service: "monitoring", Operation: "PutMetricData", Gzip: true}, // 80
		{Service: "monitoring", Operation: "ListMetrics"},
		{Service: "monitoring", Operation: "GetMetricData"}, // 500 queries
		{Service: "monitoring", Operation: "GetMetricData"}, // 23
	}
	if diff := cmp.Diff(wantCalls, calls, cmpopts.IgnoreFields(awsfake.Call{}, "Time")); diff != "" {
		t.Errorf("calls mismatch (-want +got):\n%s", diff)
	}
}

func TestCloudWatchStandardResolution(t *testing.T) {
	cw, _ := newCloudWatchBackend(t, true)
	if err := cw.Record(t.Context(), cwSamples); err != nil {
		t.Fatal(err)
	}
	got, err := cw.Series(t.Context(), cwAt(0, 0), cwAt(1, 0), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// At 1-minute resolution a node's value for the minute is the average
	// of its samples in it: (10+12)/2 for a.
	want := []Point{{Start: cwAt(0, 0), Reported: true, Nodes: 2, Items: 11 + 7, Bytes: 110 + 70, Requests: 19, Hits: 6, Misses: 12}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Series mismatch (-want +got):\n%s", diff)
	}
	if _, err := cw.Series(t.Context(), cwAt(0, 0), cwAt(1, 0), 10*time.Second); !errors.Is(err, ErrStep) {
		t.Errorf("Series(10 s) at standard resolution: error %v, want ErrStep", err)
	}
}

func TestCloudWatchErrors(t *testing.T) {
	cw, _ := newCloudWatchBackend(t, false)
	for _, step := range []time.Duration{0, -time.Minute, 1500 * time.Millisecond, 7 * time.Second, 90 * time.Second} {
		if _, err := cw.Series(t.Context(), cwAt(0, 0), cwAt(5, 0), step); !errors.Is(err, ErrStep) {
			t.Errorf("Series(step %v): error %v, want ErrStep", step, err)
		}
	}
	for _, s := range []Sample{
		{Time: cwAt(0, 0)},
		{Node: "a:1"},
		{Node: "a:1", Time: cwAt(0, 0), Hits: -1},
	} {
		if err := cw.Record(t.Context(), []Sample{s}); err == nil {
			t.Errorf("Record(%+v) = nil, want an error", s)
		}
	}
	// CloudWatch's own refusal comes back wrapped: a sample 3 hours ahead.
	err := cw.Record(t.Context(), []Sample{{Node: "a:1", Time: cwNow.Add(3 * time.Hour)}})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidParameterValue" ||
		!strings.HasPrefix(err.Error(), "scaling: cloudwatch: put metric data: ") {
		t.Errorf("Record(3 hours ahead) = %v, want the wrapped InvalidParameterValue", err)
	}
	for _, ns := range []string{"", "AWS/EC2"} {
		if _, err := NewCloudWatch(CloudWatchConfig{Client: cloudwatch.New(cloudwatch.Options{}), Namespace: ns}); err == nil {
			t.Errorf("NewCloudWatch(namespace %q) = nil error, want one", ns)
		}
	}
}

// TestAutoscalerRefusesPeriodCloudWatchCannotServe checks that a period
// the CloudWatch backend cannot aggregate by fails at start.
func TestAutoscalerRefusesPeriodCloudWatchCannotServe(t *testing.T) {
	cw, _ := newCloudWatchBackend(t, false)
	for _, tt := range []struct {
		period time.Duration
		ok     bool
	}{{2 * time.Second, false}, {5 * time.Second, true}, {90 * time.Second, false}, {2 * time.Minute, true}} {
		_, err := NewAutoscaler(AutoscalerConfig{
			Pool: (&pool{n: 1}).resizer(), Metrics: cw, Period: tt.period,
			Settings: settingsOf(Settings{Mode: Manual}),
		})
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrStep) {
			t.Errorf("NewAutoscaler(period %v) error = %v, want ok=%v (else ErrStep)", tt.period, err, tt.ok)
		}
	}
}
