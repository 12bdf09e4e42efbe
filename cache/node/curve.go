package node

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/picpool/picpool/cache/mrc"
)

// A node keeps the miss-ratio curve of its own traffic (package mrc): the
// miss ratio its lookups would have at any capacity, for the policy it
// runs, over the last ten minutes. The pool's owner reads it (GET
// /v1/curve) and combines its nodes' curves into the pool's, from which
// the autoscaler's target policy picks a size.
//
// A hit is recorded with its value's size; a miss's size is known only
// when the pool sets the value it then loaded, so a miss is recorded in
// two halves (mrc.Recorder.Miss and Fill). The curve starts over when
// the node's configuration changes (a recorder is built for one policy
// and capacity) and when partitions are dropped: a resize changed the
// keys the node serves, and the curve of the keys it had would mislead
// the next decision.
type curve struct {
	rec atomic.Pointer[mrc.Recorder]
	mu  sync.Mutex // orders restarts
	cfg Config     // the configuration rec was built for; guarded by mu
}

// restart starts a new curve for cfg; with keep, only if cfg differs
// from the current curve's.
func (c *curve) restart(cfg Config, keep bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if keep && c.rec.Load() != nil && cfg == c.cfg {
		return
	}
	r, err := mrc.New(mrc.Options{Policy: cfg.Policy, Capacity: cfg.Capacity})
	if err != nil {
		return // a configuration buildEngine took is one mrc takes: not reached
	}
	c.cfg = cfg
	c.rec.Store(r)
}

// lookup records one counted lookup of key: a hit of a value of size
// bytes as stored (with its version), or a miss.
func (c *curve) lookup(key string, size int, hit bool) {
	r := c.rec.Load()
	if hit {
		r.Record(key, int64(size))
	} else {
		r.Miss(key)
	}
}

// filled records the arrival of a value of size bytes (as stored) for a
// key the node did not hold: the second half of a miss, if one came
// first.
func (c *curve) filled(key string, size int) { c.rec.Load().Fill(key, int64(size)) }

// Curve returns the node's miss-ratio curve over its window.
func (n *Node) Curve() mrc.Curve { return n.curve.rec.Load().Curve() }

// CurveMemory returns the bytes the node's curve holds (mrc's estimate).
func (n *Node) CurveMemory() int64 { return n.curve.rec.Load().Memory() }

func (n *Node) httpCurve(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, n.Curve())
}

// Curve returns the node's miss-ratio curve (GET /v1/curve), within the
// budget of a statistics read.
func (c *Client) Curve(ctx context.Context) (mrc.Curve, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	var cv mrc.Curve
	err := c.expect(ctx, "curve", http.MethodGet, "/v1/curve", nil, nil, http.StatusOK, &cv)
	return cv, err
}
