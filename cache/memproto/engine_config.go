package memproto

import (
	"fmt"
	"time"

	"github.com/picpool/picpool/cache"
)

// policyEngine is an EngineBackend's engine with the name of its policy:
// a policy switch replaces both at once.
type policyEngine struct {
	cache.Engine
	policy string
}

// Configure sets the backend's capacity in bytes and its policy (a name
// cache.Policies lists, or an alias). A new capacity evicts down at once.
// A new policy moves every item that fits into an engine of that policy,
// the most valuable kept and inserted last, so that the order carries
// over where the new policy has one; updates and reads wait meanwhile.
// Tombstones stay either way.
func (b *EngineBackend) Configure(capacity int64, policy string) error {
	name, ok := cache.CanonicalPolicy(policy)
	if !ok {
		return fmt.Errorf("memproto: %w %q", cache.ErrUnknownPolicy, policy)
	}
	if capacity < 0 {
		return fmt.Errorf("memproto: negative capacity %d", capacity)
	}
	if cur := b.eng.Load(); cur.policy == name {
		cur.SetCapacity(capacity)
		return nil
	}
	e, err := cache.New(name, capacity)
	if err != nil {
		return fmt.Errorf("memproto: %w", err)
	}
	for i := range b.stripes {
		b.stripes[i].mu.Lock()
	}
	defer func() {
		for i := range b.stripes {
			b.stripes[i].mu.Unlock()
		}
	}()
	type kv struct {
		key    string
		stored []byte
	}
	var items []kv
	var size int64
	if r, ok := b.eng.Load().Engine.(cache.Ranger); ok {
		r.Range(func(k string, v []byte) bool {
			if c := cache.Cost(k, v); size+c <= capacity {
				items = append(items, kv{k, v})
				size += c
			}
			return true
		})
	}
	// The buffers move as they are: readers that hold one still find it
	// registered in its stripe. The items left behind go to the garbage
	// collector (counted as evicted), never to the value pool: a reader
	// may still hold one.
	for i := len(items) - 1; i >= 0; i-- {
		_ = e.Set(items[i].key, items[i].stored)
	}
	b.eng.Store(&policyEngine{e, name})
	return nil
}

// Tombstones calls fn with each live versioned delete (md E) until fn
// returns false: a node hands them over with a moved partition, so that
// the new owner refuses the same stale stores (see Server.KeepOut).
func (b *EngineBackend) Tombstones(fn func(key string, version uint64) bool) {
	b.tombs.each(time.Now(), fn)
}
