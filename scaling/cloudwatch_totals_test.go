package scaling

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/internal/awsfake"
)

// TestCloudWatchTotals checks the autoscaler's read: sums and sample
// counts per window in one GetMetricData call, and nothing of what
// CloudWatch has not ingested yet.
func TestCloudWatchTotals(t *testing.T) {
	var clock atomic.Pointer[time.Time]
	clock.Store(&cwNow)
	now := func() time.Time { return *clock.Load() }
	fake := awsfake.NewServer(awsfake.Config{Now: now, MetricLag: 2 * time.Minute})
	t.Cleanup(fake.Close)
	cw, err := NewCloudWatch(CloudWatchConfig{Client: cloudwatch.NewFromConfig(fake.AWSConfig()), Namespace: "PicPool/test", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := cw.Record(t.Context(), cwSamples); err != nil {
		t.Fatal(err)
	}
	read := func(at time.Time) []Point {
		t.Helper()
		clock.Store(&at)
		points, err := cw.Totals(t.Context(), cwAt(0, 0), cwAt(4, 0), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return points
	}
	empty := []Point{{Start: cwAt(0, 0)}, {Start: cwAt(1, 0)}, {Start: cwAt(2, 0)}, {Start: cwAt(3, 0)}}
	if diff := cmp.Diff(empty, read(cwNow.Add(time.Minute))); diff != "" {
		t.Errorf("Totals before the lag passed mismatch (-want +got):\n%s", diff)
	}
	want := []Point{
		{Start: cwAt(0, 0), Reported: true, Requests: 19, Hits: 6, Misses: 12, Samples: 3},
		{Start: cwAt(1, 0)},
		{Start: cwAt(2, 0), Reported: true, Requests: 8, Hits: 4, Misses: 4, Samples: 1},
		{Start: cwAt(3, 0), Reported: true, Samples: 1},
	}
	if diff := cmp.Diff(want, read(cwNow.Add(2*time.Minute))); diff != "" {
		t.Errorf("Totals mismatch (-want +got):\n%s", diff)
	}
	var ops []string
	for _, c := range fake.Calls() {
		ops = append(ops, c.Operation)
	}
	if diff := cmp.Diff([]string{"PutMetricData", "GetMetricData", "GetMetricData"}, ops); diff != "" {
		t.Errorf("calls mismatch (-want +got):\n%s", diff)
	}
}

// TestCloudWatchRetriesAndTimesOut checks that a throttled call is made
// again, and that a node's Record gives up after Timeout when CloudWatch
// refuses everything.
func TestCloudWatchRetriesAndTimesOut(t *testing.T) {
	for _, tt := range []struct {
		rate float64
		ok   bool
	}{{0.5, true}, {1, false}} {
		fake := awsfake.NewServer(awsfake.Config{Now: func() time.Time { return cwNow }, BusyRate: tt.rate, Seed: 5})
		t.Cleanup(fake.Close)
		cw, err := NewCloudWatch(CloudWatchConfig{Client: cloudwatch.NewFromConfig(fake.AWSConfig()), Namespace: "PicPool/test",
			Now: func() time.Time { return cwNow }, Timeout: 300 * time.Millisecond, Backoff: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for range 10 {
			err = cw.Record(t.Context(), cwSamples[:1])
			if err != nil {
				break
			}
		}
		took := time.Since(start)
		if (err == nil) != tt.ok {
			t.Errorf("busy rate %v: Record = %v, want success %v", tt.rate, err, tt.ok)
		}
		if !tt.ok && took > 2*time.Second {
			t.Errorf("busy rate %v: Record gave up after %v, want about its 300 ms timeout", tt.rate, took)
		}
	}
}
