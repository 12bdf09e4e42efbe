package main

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picpool/picpool/internal/testimg"
)

// stepPeriod is the autoscaler's period in the step-load tests: short,
// and a whole number of the nodes' 5 s statistics intervals, so that each
// window holds one sample of each node.
const stepPeriod = 5 * time.Second

// stepLoadPath runs the step load on a manager with its own
// autoscaler: one node of 1 MB, LRU, 40 images of about 100 KB read
// uniformly at random, with automatic mode configured by rule (the
// configure_cache parameters). It returns the sizes the pool went
// through, the size it held for the last `hold` periods, and the
// manager's decision log lines.
func stepLoadPath(t *testing.T, rule map[string]string, until func(sizes []int) bool, hold int) ([]int, []string) {
	t.Helper()
	dir := t.TempDir()
	m := launch(t, "manager", []string{"manager"}, "--addr", "127.0.0.1:0", "--password", "pw", "--nodes", "1", "--capacity-mb", "1",
		"--policy", "lru", "--autoscaler", "--autoscale-period", stepPeriod.String(),
		"--db", "sqlite:"+dir+"/picpool.db", "--blobs", "file:"+dir+"/blobs")
	base := m.urls["manager"]
	keys := make([]string, 40)
	for i := range keys {
		keys[i] = fmt.Sprintf("step-%02d", i)
		if r := apiCall(t, base, "/api/upload", map[string]string{"key": keys[i]}, testimg.NoisePNG(t, 182, 182, uint64(i))); r.status != 200 {
			t.Fatalf("upload %s: %v", keys[i], r)
		}
	}
	if r := apiCall(t, base, "/api/configure_cache", rule, nil); r.status != 200 {
		t.Fatalf("configure_cache %v: %v", rule, r)
	}

	stop := make(chan struct{})
	var readers sync.WaitGroup
	for g := range 2 {
		readers.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 16))
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
				if res, err := apiPost(base, "/api/key/"+keys[r.IntN(len(keys))], nil, nil); err != nil || res.status != 200 {
					t.Errorf("read: %v %v", res, err)
				}
			}
		})
	}
	defer func() { close(stop); readers.Wait() }()

	sizes := []int{1}
	var since time.Time // when the last size was first seen
	deadline := time.Now().Add(20 * stepPeriod)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		r := apiCall(t, base, "/api/getNumNodes", nil, nil)
		n, ok := r.body["numNodes"].(float64)
		if !ok {
			t.Fatalf("getNumNodes: %v", r)
		}
		if int(n) != sizes[len(sizes)-1] {
			sizes, since = append(sizes, int(n)), time.Now()
		}
		if until(sizes) && time.Since(since) > time.Duration(hold)*stepPeriod {
			break
		}
	}
	var decisions []string
	for line := range strings.Lines(m.log.String()) {
		if strings.Contains(line, `msg="autoscaler decision"`) && !strings.Contains(line, "outcome=skipped") {
			decisions = append(decisions, strings.TrimSpace(line))
		}
	}
	return sizes, decisions
}

// TestStepLoadTargetRuleOneResize is the convergence check end to
// end: the real manager, its local nodes on loopback recording their
// curves, the autoscaler on a 5 s period, readers over the test API.
// Under configure_cache?mode=auto&targetMiss=0.1 the pool goes from 1
// node to 4 or more in one resize and stays there for four periods; the
// decision names the prediction. The ratio rule's path on the same load
// is run beside it and logged.
func TestStepLoadTargetRuleOneResize(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a step load of about a minute per rule")
	}
	t.Run("target", func(t *testing.T) {
		t.Parallel()
		sizes, decisions := stepLoadPath(t, map[string]string{"mode": "auto", "targetMiss": "0.1"},
			func(sizes []int) bool { return len(sizes) > 1 }, 4)
		t.Logf("target 0.1: sizes %v\n%s", sizes, strings.Join(decisions, "\n"))
		if len(sizes) != 2 || sizes[1] < 4 {
			t.Errorf("the target rule's path is %v; want 1 and then one size of 4 or more, held for 4 periods", sizes)
		}
		grew := regexp.MustCompile(`outcome=resized reason="target miss rate 0.1: predicted (0\.\d+) at 1 node \(measured (0\.\d+)\), (0\.\d+) at (\d) nodes: grow from 1 to (\d) nodes"`)
		found := false
		for _, d := range decisions {
			if m := grew.FindStringSubmatch(d); m != nil {
				found = true
				if !strings.Contains(d, "target_rule.predicted_by_size=") {
					t.Errorf("the decision's log line lacks the prediction by size: %s", d)
				}
			}
		}
		if !found {
			t.Errorf("no decision log line names the prediction of the growth:\n%s", strings.Join(decisions, "\n"))
		}
	})
	t.Run("ratios", func(t *testing.T) {
		t.Parallel()
		sizes, decisions := stepLoadPath(t, map[string]string{"mode": "auto", "rule": "ratios"},
			func(sizes []int) bool { return sizes[len(sizes)-1] >= 4 }, 2)
		t.Logf("ratios (×2 above 0.5, ×0.5 below 0.2): sizes %v\n%s", sizes, strings.Join(decisions, "\n"))
		// The ratios' path is reported beside the target's, not held to a
		// shape: at 2 nodes this load's miss rate sits near the 0.5
		// threshold, so whether and when it doubles again depends on the
		// machine's timing (under load it stayed at 2 for 20 periods).
		if len(sizes) < 2 {
			t.Errorf("the ratio rule's path is %v; it should at least grow from 1 (miss rate far above 0.5)", sizes)
		}
	})
}
