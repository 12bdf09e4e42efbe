package pool

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picpool/picpool/cache/node"
)

// A node's circuit: a request that fails to reach a node opens it, and
// from then on the pool does not send the node anything on a request's
// path (its keys are misses, its sets are dropped, its invalidations are
// fenced) until a probe finds it answering /healthz again. So a frozen or
// dead node costs the requests in flight when it stopped one budget each,
// and nothing after that: no request waits on it, none retries it.

// peer is the pool's view of one node: the client that talks to it, and
// the node's circuit, which is the pool's to open and close (a node
// client only reports failures, as node.ErrUnavailable).
type peer struct {
	*node.Client

	// open is the circuit: set when a request failed to reach the node,
	// cleared when a probe finds it answering.
	open    atomic.Bool
	mu      sync.Mutex      // orders opening and the probe's closing
	probing bool            // guarded by mu
	life    context.Context // ends at close: stops the probe
	stop    context.CancelFunc
}

func newPeer(c *node.Client) *peer {
	life, stop := context.WithCancel(context.Background())
	return &peer{Client: c, life: life, stop: stop}
}

// up reports whether the pool sends requests to the node.
func (c *peer) up() bool { return !c.open.Load() }

// close stops the node's probe and drops the client's connections.
func (c *peer) close() {
	c.stop()
	c.Client.Close()
}

// failed opens a node's circuit after a request failed to reach it (not
// after one its caller cancelled) and starts the node's probe.
func (p *Pool) failed(c *peer, err error) {
	if !errors.Is(err, node.ErrUnavailable) || errors.Is(err, context.Canceled) {
		return
	}
	c.mu.Lock()
	opened := !c.open.Load()
	c.open.Store(true)
	start := !c.probing
	c.probing = true
	c.mu.Unlock()
	if opened {
		p.log.Warn("cache node unavailable; its keys are misses until it answers again", "node", c.Addr(), "err", err)
	}
	if start {
		go p.probe(c)
	}
}

// probe pings a node every ProbeEvery until it answers, then closes its
// circuit. It stops when the peer is closed.
func (p *Pool) probe(c *peer) {
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
		c.ForgetDataPath() // a node that restarted may serve it elsewhere now
		c.mu.Lock()
		c.open.Store(false)
		c.probing = false
		c.mu.Unlock()
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
