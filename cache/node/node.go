// Package node is one cache node: an engine of package cache holding
// versioned values, served over memcached's protocol on its data port
// (package memproto: the item operations, for the pool and for
// memcached's own tools) and an HTTP API (control, tools, moving
// partitions), bounded by the memory of its host; and the Client that
// talks to a node over both.
package node

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/memproto"
)

// Node is one cache node: one store, served over memcached's protocol
// (ServeData) and HTTP (Handler) by the node server.
//
// Values are versioned: a value's version is its memcached CAS, set with
// "ms E<version>", and a set carrying an older version than the one
// resident is refused, as is one older than a recent versioned delete
// (a tombstone, "md E<version>"). So a slow reader that loaded an image
// before it was replaced can never put the old image back. The HTTP API
// and the partition streams read and write the same store under the same
// rules (see memproto's SetVersion, DeleteVersion and KeepOut).
type Node struct {
	opts     Options
	log      *slog.Logger
	store    store
	data     *memproto.Server // the data port, over store
	config   atomic.Pointer[Config]
	configMu sync.Mutex // one Configure at a time
	curve    curve      // the miss-ratio curve of the node's lookups (curve.go)

	requests, hits, misses atomic.Int64
	window                 statsWindow
	dataAddr               atomic.Value // string: where ServeData listens
}

// New returns a node with an empty engine.
func New(opts Options) (*Node, error) {
	if opts.Token == "" {
		return nil, errors.New("cache: a node needs a token")
	}
	if opts.DataAuth != "" && opts.DataAuth != DataAuthToken && opts.DataAuth != DataAuthNone {
		return nil, fmt.Errorf("%w: data auth %q (want %s or %s)", ErrBadConfig, opts.DataAuth, DataAuthToken, DataAuthNone)
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
	n := &Node{opts: opts, log: opts.Log}
	if err := n.checkCapacity(opts.Config.Capacity); err != nil {
		return nil, err
	}
	cfg, err := checkConfig(opts.Config)
	if err != nil {
		return nil, err
	}
	b, err := memproto.NewEngineBackend(cfg.Policy, cfg.Capacity, memproto.EngineOptions{TombstoneTTL: opts.TombstoneTTL})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	n.store = store{b, n}
	token := opts.Token
	if opts.DataAuth == DataAuthNone {
		token = ""
	}
	n.data = memproto.NewServer(n.store, memproto.Options{Token: token, MaxValueBytes: int(min(opts.MaxItemBytes, 1<<40)), Log: opts.Log, Observe: opts.Observe})
	n.config.Store(&cfg)
	n.configured(cfg)
	n.dataAddr.Store("")
	n.window.record(Counts{}, time.Now()) // the window starts at creation
	return n, nil
}

// set stores value (from the store's Alloc, which set takes over) under
// key at version.
func (n *Node) set(key string, version uint64, value memproto.Value) setResult {
	stored, err := n.data.SetVersion(key, version, value)
	switch {
	case err != nil:
		return setTooLarge
	case !stored:
		return setStale
	}
	return setStored
}

// setResult says what a versioned set did.
type setResult int

const (
	setStored   setResult = iota
	setStale              // a newer version, or a newer tombstone, is resident: ignored
	setTooLarge           // the item exceeds the node's capacity
)

// delete removes key. A version above zero also leaves a tombstone, so
// that sets of older versions are ignored for TombstoneTTL: the writer of
// version v deletes with v, and readers then put v or newer back.
func (n *Node) delete(key string, version uint64) {
	n.data.DeleteVersion(key, version)
}

// clear drops every item. Tombstones stay: they guard against stale sets,
// which a clear does not make any less stale.
func (n *Node) clear() { n.store.Flush() }
