package loadgen

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestAutoscaleRunsBothRules: the autoscale scenario runs the load twice
// from one node, under the target rule and then the ratios, a quarter of
// the duration a half, and leaves the pool under the ratios.
func TestAutoscaleRunsBothRules(t *testing.T) {
	env := scenarioEnv{cfg: Config{Duration: 101 * time.Second, Keys: 50}, keySizes: []int64{300 << 10, 400 << 10, 500 << 10, 600 << 10}}
	phases := buildAutoscale(env)
	type row struct {
		Series   string
		Duration time.Duration
		Keys     int
		Setup    []url.Values
	}
	var got []row
	for _, p := range phases {
		got = append(got, row{p.series, p.duration, p.keys.n, p.setup})
	}
	reset := []url.Values{
		{"mode": {"manual"}, "numNodes": {"1"}, "cacheSize": {"0"}},
		{"cacheSize": {"4"}, "policy": {"LRU"}},
	}
	want := []row{
		{"target 0.1: every key", 25250 * time.Millisecond, 50, append(reset[:2:2], url.Values{"mode": {"auto"}, "rule": {"target"}, "targetMiss": {"0.1"}})},
		{"target 0.1: 2 hot keys", 25250 * time.Millisecond, 2, nil},
		{"ratios: every key", 25250 * time.Millisecond, 50, append(reset[:2:2], url.Values{"mode": {"auto"}, "rule": {"ratios"},
			"maxMiss": {"0.5"}, "minMiss": {"0.2"}, "expRatio": {"2"}, "shrinkRatio": {"0.5"}})},
		{"ratios: 2 hot keys", 25250 * time.Millisecond, 2, nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
}
