package handlers

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/picpool/picpool/scaling"
)

// scrape GETs /metrics with the given Authorization header ("" for none)
// and returns the status and the body.
func scrape(t *testing.T, base, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// countingDecisions is a DecisionLog that counts decisions too.
type countingDecisions map[scaling.Outcome]int64

func (countingDecisions) History() []scaling.Decision         { return nil }
func (c countingDecisions) Counts() map[scaling.Outcome]int64 { return c }

// TestMetrics: /metrics answers in Prometheus' text format with the
// requests by route and status, their latency, the pool's size and miss
// rate, and on the manager the autoscaler's decisions; it is behind the
// test API's token where the API is.
func TestMetrics(t *testing.T) {
	f := newFixture(t, setup{nodes: 2})
	gallerySrv := f.galleryServer(t, APIGuard(false, "metrics-token"))
	for range 3 {
		postForm(t, gallerySrv.URL+"/api/getNumNodes", nil)
	}
	get(t, gallerySrv.URL+"/no/such/page")
	if code, _ := scrape(t, gallerySrv.URL, ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d, want 401", code)
	}
	code, body := scrape(t, gallerySrv.URL, "Bearer metrics-token")
	if code != http.StatusOK {
		t.Fatalf("/metrics with the token: %d\n%s", code, body)
	}
	for _, want := range []string{
		`picpool_http_requests_total{code="200",route="/api/getNumNodes"} 3`,
		`picpool_http_requests_total{code="404",route="unmatched"} 1`,
		`picpool_http_requests_total{code="401",route="/metrics"} 1`,
		`picpool_http_request_duration_seconds_count{route="/api/getNumNodes"} 3`,
		"picpool_pool_nodes 2",
		"picpool_pool_miss_rate 0",
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the gallery's /metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "picpool_autoscaler_decisions_total") {
		t.Error("the gallery's /metrics has autoscaler decisions; it runs no autoscaler")
	}

	managerSrv := f.managerServer(t, openAPI, countingDecisions{scaling.OutcomeResized: 2, scaling.OutcomeHeld: 5})
	code, body = scrape(t, managerSrv.URL, "")
	if code != http.StatusOK {
		t.Fatalf("the manager's /metrics on an open API: %d", code)
	}
	for _, want := range []string{
		`picpool_autoscaler_decisions_total{outcome="resized"} 2`,
		`picpool_autoscaler_decisions_total{outcome="held"} 5`,
		`picpool_autoscaler_decisions_total{outcome="failed"} 0`,
		"picpool_pool_nodes 2",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the manager's /metrics lacks %q", want)
		}
	}
}
