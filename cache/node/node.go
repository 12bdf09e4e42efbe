// Package node is one cache node: an engine of package cache holding
// versioned values, served over an HTTP API (control, tools, moving
// partitions) and a binary data path (the item operations), bounded by
// the memory of its host; and the Client that talks to a node over both.
package node

import (
	"cmp"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picpool/picpool/cache"
)

// Node is one cache node: an engine holding versioned values, served over
// HTTP (Handler) and a binary data path (ServeBinary) by the node server.
//
// Values are versioned: the version is stored in the engine as an 8-byte
// prefix of the value, and a set carrying an older version than the one
// resident is ignored, as is one older than a recent versioned delete
// (a tombstone). So a slow reader that loaded an image before it was
// replaced can never put the old image back.
type Node struct {
	opts    Options
	log     *slog.Logger
	engine  atomic.Pointer[nodeEngine]
	writeMu [64]sync.Mutex // per-key-stripe: version check and set are one step
	seed    maphash.Seed
	tombs   tombstones
	curve   curve // the miss-ratio curve of the node's lookups (curve.go)

	requests, hits, misses atomic.Int64
	window                 statsWindow
	binaryAddr             atomic.Value // string: where ServeBinary listens
}

// nodeEngine is an engine together with the configuration it was built
// from; a policy switch replaces both at once.
type nodeEngine struct {
	cache.Engine
	config Config
}

// New returns a node with an empty engine.
func New(opts Options) (*Node, error) {
	if opts.Token == "" {
		return nil, errors.New("cache: a node needs a token")
	}
	if opts.Config == (Config{}) {
		opts.Config = Config{Capacity: DefaultCapacity, Policy: cache.DefaultPolicy}
	}
	opts.MaxItemBytes = cmp.Or(opts.MaxItemBytes, DefaultMaxItemBytes)
	opts.StatsInterval = cmp.Or(opts.StatsInterval, DefaultStatsInterval)
	opts.TombstoneTTL = cmp.Or(opts.TombstoneTTL, DefaultTombstoneTTL)
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	n := &Node{opts: opts, log: opts.Log, seed: maphash.MakeSeed(), tombs: tombstones{m: map[string]tombstone{}}}
	if err := n.checkCapacity(opts.Config.Capacity); err != nil {
		return nil, err
	}
	e, cfg, err := buildEngine(opts.Config)
	if err != nil {
		return nil, err
	}
	n.engine.Store(&nodeEngine{e, cfg})
	n.configured(cfg)
	n.binaryAddr.Store("")
	n.window.record(Counts{}, time.Now()) // the window starts at creation
	return n, nil
}

// versionBytes is the length of the version prefix a node stores in front
// of every value (see Node). It is the node's own layout: only this
// package reads or writes it.
const versionBytes = 8

func (n *Node) stripe(key string) *sync.Mutex {
	return &n.writeMu[maphash.String(n.seed, key)&uint64(len(n.writeMu)-1)]
}

// get returns the value and version of key; a miss is (nil, 0, false).
// It counts a request and a hit or miss.
func (n *Node) get(key string) ([]byte, uint64, bool) {
	n.requests.Add(1)
	v, version, ok := n.peek(key)
	if ok {
		n.hits.Add(1)
	} else {
		n.misses.Add(1)
	}
	n.curve.lookup(key, len(v)+versionBytes, ok)
	return v, version, ok
}

// peek is get without counting: a client looking again for a key it has
// just missed (see the pool's GetOrLoad) asks this way, so that one lookup is
// one miss in the statistics the autoscaler reads.
func (n *Node) peek(key string) ([]byte, uint64, bool) {
	v, ok := n.engine.Load().Get(key)
	if !ok || len(v) < versionBytes {
		return nil, 0, false
	}
	return v[versionBytes:], binaryVersion(v), true
}

// setResult says what a versioned set did.
type setResult int

const (
	setStored   setResult = iota
	setStale              // a newer version, or a newer tombstone, is resident: ignored
	setTooLarge           // the item exceeds the node's capacity
)

// set stores buf[versionBytes:] under key with the given version. buf's
// first versionBytes bytes are the node's to fill: callers read values
// into buffers with that room, so nothing is copied.
func (n *Node) set(key string, version uint64, buf []byte) setResult {
	n.requests.Add(1)
	mu := n.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	if n.tombs.covers(key, version, time.Now()) {
		return setStale
	}
	e := n.engine.Load()
	cur, held := e.Get(key)
	if held && len(cur) >= versionBytes && binaryVersion(cur) > version {
		return setStale
	}
	binary.BigEndian.PutUint64(buf, version)
	if err := e.Set(key, buf); err != nil {
		return setTooLarge
	}
	if !held {
		n.curve.filled(key, len(buf))
	}
	return setStored
}

// delete removes key. A version above zero also leaves a tombstone, so
// that sets of older versions are ignored for TombstoneTTL: the writer of
// version v deletes with v, and readers then put v or newer back.
func (n *Node) delete(key string, version uint64) bool {
	n.requests.Add(1)
	mu := n.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	if version > 0 {
		n.tombs.add(key, version, time.Now(), n.opts.TombstoneTTL)
	}
	return n.engine.Load().Delete(key)
}

// applyTombstone records a tombstone that came with a moved partition, and
// drops the resident value if it is older.
func (n *Node) applyTombstone(key string, version uint64) {
	mu := n.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	n.tombs.add(key, version, time.Now(), n.opts.TombstoneTTL)
	e := n.engine.Load()
	if cur, ok := e.Get(key); ok && len(cur) >= versionBytes && binaryVersion(cur) < version {
		e.Delete(key)
	}
}

// clear drops every item. Tombstones stay: they guard against stale sets,
// which a clear does not make any less stale.
func (n *Node) clear() {
	n.requests.Add(1)
	n.engine.Load().Clear()
}

// binaryVersion reads the version prefix of a stored value.
func binaryVersion(stored []byte) uint64 { return binary.BigEndian.Uint64(stored) }
