package cache

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// A node's circuit: a request that fails to reach a node opens it, and
// from then on the pool does not send the node anything on a request's
// path (its keys are misses, its sets are dropped, its invalidations are
// fenced) until a probe finds it answering /healthz again. So a frozen or
// dead node costs the requests in flight when it stopped one budget each,
// and nothing after that: no request waits on it, none retries it.

// Up reports whether the pool sends requests to the node.
func (c *NodeClient) Up() bool { return !c.open.Load() }

// Ping asks the node's /healthz, within the budget of a request without a
// value.
func (c *NodeClient) Ping(ctx context.Context) error {
	ctx, cancel := c.withBudget(ctx, 0)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.unavailable("health check", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c.unavailable("health check", statusError(resp))
	}
	return nil
}

// failed opens a node's circuit after a request failed to reach it (not
// after one its caller cancelled) and starts the node's probe.
func (p *Pool) failed(c *NodeClient, err error) {
	if !errors.Is(err, ErrNodeUnavailable) || errors.Is(err, context.Canceled) {
		return
	}
	c.circuitMu.Lock()
	opened := !c.open.Load()
	c.open.Store(true)
	start := !c.probing
	c.probing = true
	c.circuitMu.Unlock()
	if opened {
		p.log.Warn("cache node unavailable; its keys are misses until it answers again", "node", c.Addr(), "err", err)
	}
	if start {
		go p.probe(c)
	}
}

// probe pings a node every ProbeEvery until it answers, then closes its
// circuit. It stops when the client is closed.
func (p *Pool) probe(c *NodeClient) {
	t := time.NewTicker(p.opts.ProbeEvery)
	defer t.Stop()
	for {
		select {
		case <-c.life.Done():
			return
		case <-t.C:
		}
		if c.Ping(c.life) != nil {
			continue
		}
		c.forgetDataPath() // a node that restarted may serve it elsewhere now
		c.circuitMu.Lock()
		c.open.Store(false)
		c.probing = false
		c.circuitMu.Unlock()
		p.log.Info("cache node answers again", "node", c.Addr())
		return
	}
}

// checkMembers is the owner's look at its nodes: a node that does not
// answer has its circuit opened (so every process of this one stops
// waiting on it), and a node whose configuration is not the table's (it
// restarted with its own flags) gets the table's before it is used again.
func (p *Pool) checkMembers(ctx context.Context) {
	t := p.route.Load().table
	for _, m := range t.Members {
		c := p.client(m)
		st, err := c.Status(ctx)
		if err != nil {
			p.failed(c, err)
			continue
		}
		if st.Config != t.Config {
			if err := c.Configure(ctx, t.Config); err != nil {
				p.failed(c, err)
				continue
			}
			p.log.Info("cache node had another configuration (restarted?); configured it", "node", m, "had", st.Config, "now", t.Config)
		}
	}
}
