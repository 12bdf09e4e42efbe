package node

import (
	"context"
	"sync"
	"time"
)

// Stats is one node's statistics for one publishing interval: Items
// and Bytes at its end, Requests, Hits and Misses counted during it.
type Stats struct {
	Node     string // the node's address
	Time     time.Time
	Items    int64
	Bytes    int64
	Requests int64
	Hits     int64
	Misses   int64
}

// StatsPublisher receives each node's statistics every publishing interval
// (5 s). Main adapts it to the metrics backend.
type StatsPublisher interface {
	PublishStats(ctx context.Context, s Stats) error
}

// Status is what GET /v1/stats reports.
type Status struct {
	Name     string `json:"name"`
	Config   Config `json:"config"`
	Items    int64  `json:"items"`
	Bytes    int64  `json:"bytes"`
	Requests int64  `json:"requests"` // since start
	Hits     int64  `json:"hits"`
	Misses   int64  `json:"misses"`
	Evicted  int64  `json:"evictions"` // items the engine evicted to make room, since start
	Window   Counts `json:"window"`    // the last 60 seconds, sliding
	DataAddr string `json:"data_addr"` // the data port's address (memcached's protocol), "" if none
	MaxItem  int64  `json:"max_item_bytes"`
}

// Counts are request counters over some window.
type Counts struct {
	Requests int64 `json:"requests"`
	Hits     int64 `json:"hits"`
	Misses   int64 `json:"misses"`
}

// Status returns the node's current statistics.
func (n *Node) Status() Status {
	st := n.store.Stats()
	return Status{
		Name:     n.opts.Name,
		Config:   n.Config(),
		Items:    st.Items,
		Bytes:    st.Bytes,
		Requests: n.requests.Load(),
		Hits:     n.hits.Load(),
		Misses:   n.misses.Load(),
		Evicted:  st.Evictions,
		Window:   n.window.last(n.counts(), time.Now()),
		DataAddr: n.dataAddr.Load().(string),
		MaxItem:  n.opts.MaxItemBytes,
	}
}

func (n *Node) counts() Counts {
	return Counts{Requests: n.requests.Load(), Hits: n.hits.Load(), Misses: n.misses.Load()}
}

// Run keeps the sliding window and publishes stats every StatsInterval
// until ctx is done.
func (n *Node) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastPublish, published := time.Now(), Counts{} // publish everything since creation
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			c := n.counts()
			n.window.record(c, now)
			if n.opts.Publisher == nil || now.Sub(lastPublish) < n.opts.StatsInterval {
				continue
			}
			st := n.store.Stats()
			s := Stats{
				Node: n.opts.Name, Time: now, Items: st.Items, Bytes: st.Bytes,
				Requests: c.Requests - published.Requests, Hits: c.Hits - published.Hits, Misses: c.Misses - published.Misses,
			}
			if err := n.opts.Publisher.PublishStats(ctx, s); err != nil {
				// The counts stay unpublished and go out with the next
				// interval, so none are lost to a passing failure.
				n.log.Warn("publish node stats", "node", n.opts.Name, "err", err)
				continue
			}
			lastPublish, published = now, c
		}
	}
}

// statsWindow keeps a minute of per-second snapshots of the running
// counters, so the last 60 seconds are a subtraction.
type statsWindow struct {
	mu    sync.Mutex
	snaps [61]snapshot // a ring; next is where the next one goes
	next  int
}

type snapshot struct {
	at time.Time
	c  Counts
}

func (w *statsWindow) record(c Counts, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.snaps[w.next] = snapshot{now, c}
	w.next = (w.next + 1) % len(w.snaps)
}

// last returns the counts since the oldest snapshot at most 60 seconds
// old (or since start, when there is none yet).
func (w *statsWindow) last(now Counts, at time.Time) Counts {
	w.mu.Lock()
	defer w.mu.Unlock()
	var base snapshot
	for _, s := range w.snaps {
		if !s.at.IsZero() && at.Sub(s.at) <= time.Minute && (base.at.IsZero() || s.at.Before(base.at)) {
			base = s
		}
	}
	return Counts{now.Requests - base.c.Requests, now.Hits - base.c.Hits, now.Misses - base.c.Misses}
}

// PublishFunc is a StatsPublisher that is a function.
type PublishFunc func(ctx context.Context, s Stats) error

// PublishStats calls f.
func (f PublishFunc) PublishStats(ctx context.Context, s Stats) error { return f(ctx, s) }
