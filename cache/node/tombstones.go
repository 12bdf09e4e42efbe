package node

import (
	"sync"
	"time"
)

// maxTombstones bounds the tombstones a node keeps: past it the oldest go
// first, and sets that only they kept out would be stored.
const maxTombstones = 1 << 16

// tombstones remember recent versioned deletes, bounded in number and
// time: a set below a tombstone's version is stale.
type tombstones struct {
	mu    sync.Mutex
	m     map[string]tombstone
	order []tombstoneRef // insertion order, oldest first: expiry and the bound
}

type tombstone struct {
	version uint64
	expires time.Time
}

type tombstoneRef struct {
	key     string
	expires time.Time
}

func (t *tombstones) add(key string, version uint64, now time.Time, ttl time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.m[key]; ok && cur.version > version {
		version = cur.version
	}
	expires := now.Add(ttl)
	t.m[key] = tombstone{version, expires}
	t.order = append(t.order, tombstoneRef{key, expires})
	// Drop expired tombstones, and the oldest while over the bound.
	drop := 0
	for ; drop < len(t.order); drop++ {
		r := t.order[drop]
		if !r.expires.Before(now) && len(t.order)-drop <= maxTombstones {
			break
		}
		if cur, ok := t.m[r.key]; ok && cur.expires.Equal(r.expires) {
			delete(t.m, r.key) // not refreshed since: this ref is its latest
		}
	}
	if drop > 0 {
		t.order = append(t.order[:0], t.order[drop:]...)
	}
}

// live returns the unexpired tombstones as entries.
func (t *tombstones) live(now time.Time) []Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Entry, 0, len(t.m))
	for k, ts := range t.m {
		if !ts.expires.Before(now) {
			out = append(out, Entry{Key: k, Version: ts.version, Tombstone: true})
		}
	}
	return out
}

func (t *tombstones) covers(key string, version uint64, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	ts, ok := t.m[key]
	return ok && !ts.expires.Before(now) && version < ts.version
}
