package pool

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// StaticProvider pools standalone nodes at fixed addresses, the way
// operators configure memcached pools: `picpool node` runs on each host,
// and `--provider static:host:port,host:port` lists them. It starts and
// stops nothing: the pool uses the first n listed nodes that answer, and a
// node the pool removes keeps running, emptied, ready to be used again.
type StaticProvider struct {
	addrs []string
	http  *http.Client
}

var _ Provider = (*StaticProvider)(nil)

// ParseStaticProvider returns the provider of a comma-separated list of
// node addresses ("10.0.0.5:5100,10.0.0.6:5100"), each host:port, no
// address twice.
func ParseStaticProvider(list string) (*StaticProvider, error) {
	var addrs []string
	for a := range strings.SplitSeq(list, ",") {
		a = strings.TrimSpace(a)
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" || port == "" {
			return nil, fmt.Errorf("cache: static provider: %q is not host:port", a)
		}
		if slices.Contains(addrs, a) {
			return nil, fmt.Errorf("cache: static provider: %s is listed twice", a)
		}
		addrs = append(addrs, a)
	}
	return &StaticProvider{addrs: addrs, http: &http.Client{Timeout: time.Second}}, nil
}

// Members returns the listed nodes whose /healthz answers within a second,
// in the order listed.
func (s *StaticProvider) Members(ctx context.Context) ([]string, error) {
	up := make([]bool, len(s.addrs))
	var wg sync.WaitGroup
	for i, a := range s.addrs {
		wg.Go(func() { up[i] = s.healthy(ctx, a) })
	}
	wg.Wait()
	var out []string
	for i, a := range s.addrs {
		if up[i] {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *StaticProvider) healthy(ctx context.Context, addr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// SetSize checks that n nodes are listed: it cannot start more.
func (s *StaticProvider) SetSize(ctx context.Context, n int) error {
	if n > len(s.addrs) {
		return fmt.Errorf("cache: static provider: %d nodes asked, %d listed; start more nodes and list them in --provider", n, len(s.addrs))
	}
	return nil
}

// Remove does nothing: the node keeps running outside the pool (the pool
// has drained and cleared it).
func (s *StaticProvider) Remove(ctx context.Context, member string) error { return nil }
