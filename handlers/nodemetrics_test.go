package handlers

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picpool/picpool/cache/memproto"
	"github.com/picpool/picpool/cache/node"
)

// TestNodeMetrics: a real node on loopback with WithNodeMetrics serves
// GET /metrics behind its token, in Prometheus' format, with the lookups,
// items and the data port's command latencies of the traffic it saw.
func TestNodeMetrics(t *testing.T) {
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	s := &node.Server{HTTP: listen(), Data: listen()}
	var err error
	if s.Node, err = node.New(WithNodeMetrics(node.Options{Token: "tok"})); err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Stop(time.Second) })

	c := memproto.NewClient(s.Data.Addr().String(), memproto.ClientOptions{Token: "tok"})
	defer c.Close()
	ctx := t.Context()
	if _, err := c.Set(ctx, "k", 1, []byte("value")); err != nil {
		t.Fatal(err)
	}
	c.Get(ctx, "k")
	c.Get(ctx, "missing")

	get := func(token string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.HTTP.Addr().String()+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Errorf("GET /metrics without the token: %d, want 401", code)
	}
	code, body := get("tok")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	for _, want := range []string{
		`picpool_node_items 1`,
		`picpool_node_lookups_total{outcome="hit"} 1`,
		`picpool_node_lookups_total{outcome="miss"} 1`,
		`picpool_node_command_duration_seconds_count{command="mg"} 2`,
		`picpool_node_command_duration_seconds_count{command="ms"} 1`,
		`picpool_node_evictions_total 0`,
	} {
		if !strings.Contains(body, "\n"+want+"\n") {
			t.Errorf("/metrics lacks the line %q", want)
		}
	}
	if !strings.Contains(body, "\ngo_goroutines ") {
		t.Error("/metrics lacks the Go runtime's metrics")
	}
}
