package memproto

import (
	"sync"
	"time"
)

// tombstoneSet remembers recent versioned deletes, bounded in time (each
// lives its TTL) and in number (past max, the oldest go first): while a
// key's tombstone lives, versioned stores below its version are refused.
type tombstoneSet struct {
	mu    sync.Mutex
	byKey map[string]tomb
	fifo  []tombRef // in the order they were recorded; fifo[head:] is live
	head  int
	max   int
}

type tomb struct {
	version uint64
	until   time.Time
}

// tombRef is one recording; a key recorded again has a newer ref, and
// only its newest one (until equal to byKey's) removes it.
type tombRef struct {
	key   string
	until time.Time
}

func newTombstoneSet(max int) *tombstoneSet {
	return &tombstoneSet{byKey: map[string]tomb{}, max: max}
}

// record keeps key's tombstone at the highest version seen, living until
// now+ttl or longer if it already did.
func (s *tombstoneSet) record(key string, version uint64, now time.Time, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	until := now.Add(ttl)
	if cur, ok := s.byKey[key]; ok && cur.until.After(now) {
		version = max(version, cur.version)
		if cur.until.After(until) {
			until = cur.until
		}
	}
	s.byKey[key] = tomb{version, until}
	s.fifo = append(s.fifo, tombRef{key, until})
	s.expire(now)
}

// expire drops the refs that are due or over the bound, oldest first.
// Refs are appended in time order only when every TTL is the same; an
// out-of-order one waits behind an older ref, which costs memory for a
// while but never drops a live tombstone early, since a key is removed
// only by its newest ref.
func (s *tombstoneSet) expire(now time.Time) {
	for s.head < len(s.fifo) {
		r := s.fifo[s.head]
		if r.until.After(now) && len(s.fifo)-s.head <= s.max {
			break
		}
		if cur, ok := s.byKey[r.key]; ok && cur.until.Equal(r.until) {
			delete(s.byKey, r.key)
		}
		s.fifo[s.head] = tombRef{}
		s.head++
	}
	if s.head > len(s.fifo)/2 {
		n := copy(s.fifo, s.fifo[s.head:])
		clear(s.fifo[n:])
		s.fifo, s.head = s.fifo[:n], 0
	}
}

// version returns the version of key's live tombstone, or 0.
func (s *tombstoneSet) version(key string, now time.Time) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.byKey[key]; ok && t.until.After(now) {
		return t.version
	}
	return 0
}

// count returns how many tombstones are held (some may be due).
func (s *tombstoneSet) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey)
}

// each calls fn with each live tombstone, from a copy taken under the
// lock, until fn returns false.
func (s *tombstoneSet) each(now time.Time, fn func(key string, version uint64) bool) {
	type kv struct {
		key     string
		version uint64
	}
	s.mu.Lock()
	live := make([]kv, 0, len(s.byKey))
	for k, t := range s.byKey {
		if t.until.After(now) {
			live = append(live, kv{k, t.version})
		}
	}
	s.mu.Unlock()
	for _, t := range live {
		if !fn(t.key, t.version) {
			return
		}
	}
}
