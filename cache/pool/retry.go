package pool

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
)

// maxRetries bounds the invalidations kept for retrying. Past it the
// oldest are dropped, with an error in the log: by then the database has
// been unreachable for thousands of uploads, none of which committed after
// the first few failures.
const maxRetries = 10000

// retryQueue keeps the invalidations that could not finish (the database
// did not answer when a node had to be fenced), so that Run finishes them
// once it answers again: the writer was told its image may be served old
// until then.
type retryQueue struct {
	mu      sync.Mutex
	pending map[string]retry // by key
	order   []string
}

// retry is one pending invalidation: the highest version to invalidate,
// and the names of the derived values that go with it.
type retry struct {
	version uint64
	derived []string
}

func (q *retryQueue) add(key string, version uint64, derived []string) (dropped string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pending == nil {
		q.pending = map[string]retry{}
	}
	if r, ok := q.pending[key]; ok {
		r.version = max(r.version, version)
		for _, n := range derived {
			if !slices.Contains(r.derived, n) {
				r.derived = append(r.derived, n)
			}
		}
		q.pending[key] = r
		return ""
	}
	q.pending[key] = retry{version, slices.Clone(derived)}
	q.order = append(q.order, key)
	if len(q.order) > maxRetries {
		dropped, q.order = q.order[0], q.order[1:]
		delete(q.pending, dropped)
	}
	return dropped
}

// take removes and returns everything pending.
func (q *retryQueue) take() map[string]retry {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.pending
	q.pending, q.order = nil, nil
	return out
}

// invalidateLater queues an invalidation that failed for Run to retry.
func (p *Pool) invalidateLater(key string, version uint64, derived []string) {
	if dropped := p.retries.add(key, version, derived); dropped != "" {
		p.log.Error("cache: too many invalidations pending while the database is unreachable; one was dropped and may be served old until it is uploaded again", "key", dropped)
	}
}

// retryInvalidations runs the pending invalidations again; those that
// fail again go back in the queue, and so do all that ctx's end leaves
// untried.
func (p *Pool) retryInvalidations(ctx context.Context) {
	for key, r := range p.retries.take() {
		if ctx.Err() != nil {
			p.retries.add(key, r.version, r.derived)
			continue
		}
		if err := p.invalidate(ctx, key, r.version, r.derived); err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				p.retries.add(key, r.version, r.derived)
				continue
			}
			p.invalidateLater(key, r.version, r.derived)
			continue
		}
		p.log.Info("cache: a pending invalidation finished", "key", key, "version", r.version)
	}
}

// reportPending logs, when the pool stops, the invalidations it could not
// finish: their keys may be served old by a node until they are uploaded
// again, and the operator is the one left to know.
func (p *Pool) reportPending() {
	pending := p.retries.take()
	if len(pending) == 0 {
		return
	}
	keys := slices.Sorted(maps.Keys(pending))
	p.log.Error("cache: invalidations still pending when the pool stopped; these keys may be served old until they are uploaded again (or the cache is cleared)", "count", len(keys), "keys", keys[:min(len(keys), 100)])
}
