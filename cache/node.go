package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picpool/picpool/cache/nodekey"
	"github.com/picpool/picpool/cache/partition"
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
	opts    NodeOptions
	log     *slog.Logger
	engine  atomic.Pointer[nodeEngine]
	writeMu [64]sync.Mutex // per-key-stripe: version check and set are one step
	seed    maphash.Seed
	tombs   tombstones

	requests, hits, misses atomic.Int64
	window                 statsWindow
	binaryAddr             atomic.Value // string: where ServeBinary listens
}

// nodeEngine is an engine together with the configuration it was built
// from; a policy switch replaces both at once.
type nodeEngine struct {
	Engine
	config NodeConfig
}

// NodeOptions configures NewNode. The zero value of each field but Token
// is its default.
type NodeOptions struct {
	// Token is the shared secret every request but /healthz must present
	// as "Authorization: Bearer <token>". It must not be empty.
	Token string
	// Config is the initial capacity and policy. Default: 64 MiB, lru.
	Config NodeConfig
	// MaxItemBytes bounds one value; larger bodies are refused (413) before
	// they are read. Default: 64 MiB.
	MaxItemBytes int64
	// Name identifies the node in published stats, usually its address.
	Name string
	// Publisher receives the node's stats every StatsInterval. Optional.
	Publisher StatsPublisher
	// StatsInterval is how often stats are published. Default: 5 s.
	StatsInterval time.Duration
	// TombstoneTTL is how long a versioned delete keeps older versions out.
	// It must outlast the slowest load a reader can do. Default: 2 min.
	TombstoneTTL time.Duration
	// Log receives the node's warnings. Default: discard.
	Log *slog.Logger
	// OnConfig, if set, is called with every configuration the node takes,
	// the initial one included (the node command sizes the Go memory limit
	// from the capacity).
	OnConfig func(NodeConfig)
}

// Defaults for NodeOptions.
const (
	DefaultNodeCapacity  = 64 << 20
	DefaultMaxItemBytes  = 64 << 20
	DefaultStatsInterval = 5 * time.Second
	DefaultTombstoneTTL  = 2 * time.Minute
	maxTombstones        = 1 << 16
	versionBytes         = 8
)

// ErrBadConfig is returned for a node configuration that cannot apply.
var ErrBadConfig = errors.New("cache: bad node configuration")

// NewNode returns a node with an empty engine.
func NewNode(opts NodeOptions) (*Node, error) {
	if opts.Token == "" {
		return nil, errors.New("cache: a node needs a token")
	}
	if opts.Config == (NodeConfig{}) {
		opts.Config = NodeConfig{Capacity: DefaultNodeCapacity, Policy: "lru"}
	}
	opts.MaxItemBytes = cmpOr(opts.MaxItemBytes, DefaultMaxItemBytes)
	opts.StatsInterval = cmpOr(opts.StatsInterval, DefaultStatsInterval)
	opts.TombstoneTTL = cmpOr(opts.TombstoneTTL, DefaultTombstoneTTL)
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	n := &Node{opts: opts, log: opts.Log, seed: maphash.MakeSeed(), tombs: tombstones{m: map[string]tombstone{}}}
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

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func buildEngine(cfg NodeConfig) (Engine, NodeConfig, error) {
	policy, ok := CanonicalPolicy(cfg.Policy)
	if !ok {
		return nil, cfg, fmt.Errorf("%w: unknown policy %q (known: %v)", ErrBadConfig, cfg.Policy, Policies())
	}
	if cfg.Capacity < 0 {
		return nil, cfg, fmt.Errorf("%w: negative capacity %d", ErrBadConfig, cfg.Capacity)
	}
	cfg.Policy = policy
	e, err := New(policy, cfg.Capacity)
	return e, cfg, err
}

// Config returns the node's current capacity and policy.
func (n *Node) Config() NodeConfig { return n.engine.Load().config }

// Configure applies a capacity and a policy. A new capacity evicts down at
// once; a new policy moves every item that fits into an engine of that
// policy, most valuable first. Writes wait while the items move.
func (n *Node) Configure(cfg NodeConfig) error {
	cur := n.engine.Load()
	if p, ok := CanonicalPolicy(cfg.Policy); ok && p == cur.config.Policy {
		if cfg.Capacity < 0 {
			return fmt.Errorf("%w: negative capacity %d", ErrBadConfig, cfg.Capacity)
		}
		cur.SetCapacity(cfg.Capacity)
		n.engine.Store(&nodeEngine{cur.Engine, NodeConfig{cfg.Capacity, p}})
		n.configured(NodeConfig{cfg.Capacity, p})
		return nil
	}
	e, cfg, err := buildEngine(cfg)
	if err != nil {
		return err
	}
	for i := range n.writeMu {
		n.writeMu[i].Lock()
	}
	defer func() {
		for i := range n.writeMu {
			n.writeMu[i].Unlock()
		}
	}()
	old := n.engine.Load()
	// Keep the most valuable items that fit, and insert the least valuable
	// of them first, so that the order carries over where the new policy
	// has one and nothing is evicted on the way.
	var items []kv
	var size int64
	if r, ok := old.Engine.(Ranger); ok {
		r.Range(func(k string, v []byte) bool {
			if c := Cost(k, v); size+c <= cfg.Capacity {
				items = append(items, kv{k, v})
				size += c
			}
			return true
		})
	}
	for i := len(items) - 1; i >= 0; i-- {
		_ = e.Set(items[i].key, items[i].value)
	}
	n.engine.Store(&nodeEngine{e, cfg})
	n.configured(cfg)
	return nil
}

func (n *Node) configured(cfg NodeConfig) {
	if n.opts.OnConfig != nil {
		n.opts.OnConfig(cfg)
	}
}

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
	return v, version, ok
}

// peek is get without counting: a client looking again for a key it has
// just missed (see Pool.GetOrLoad) asks this way, so that one lookup is
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
	if cur, ok := e.Get(key); ok && len(cur) >= versionBytes && binaryVersion(cur) > version {
		return setStale
	}
	binary.BigEndian.PutUint64(buf, version)
	if err := e.Set(key, buf); err != nil {
		return setTooLarge
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

// inPartitions reports whether a node key falls in one of the wanted
// partitions; keys the pool did not make (a memcached client's own) never
// do, so they are never moved or dropped by a resize.
func inPartitions(pt partition.Partitioner, want map[int]bool, key string) bool {
	k, _, ok := nodekey.Parse(key)
	return ok && want[partition.OfHash(pt, k.Hash())]
}

// partitionEntries calls fn with the items and then the tombstones whose
// keys fall in the wanted partitions.
func (n *Node) partitionEntries(pt partition.Partitioner, want map[int]bool, fn func(Entry) error) error {
	ranger, ok := n.engine.Load().Engine.(Ranger)
	if !ok {
		return errors.New("cache: this node's engine cannot list its items")
	}
	var err error
	ranger.Range(func(key string, value []byte) bool {
		if inPartitions(pt, want, key) && len(value) >= versionBytes {
			err = fn(Entry{Key: key, Version: binaryVersion(value), Value: value[versionBytes:]})
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	for _, t := range n.tombs.live(time.Now()) {
		if inPartitions(pt, want, t.Key) {
			if err := fn(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropPartitions removes the items of the given partitions (a resize moved
// them away; tombstones stay, as they do on clear) and returns how many.
func (n *Node) dropPartitions(pt partition.Partitioner, want map[int]bool) int {
	n.requests.Add(1)
	var keys []string
	e := n.engine.Load()
	if r, ok := e.Engine.(Ranger); ok {
		r.Range(func(key string, _ []byte) bool {
			if inPartitions(pt, want, key) {
				keys = append(keys, key)
			}
			return true
		})
	}
	dropped := 0
	for _, k := range keys {
		mu := n.stripe(k)
		mu.Lock()
		if e.Delete(k) {
			dropped++
		}
		mu.Unlock()
	}
	return dropped
}

// clear drops every item. Tombstones stay: they guard against stale sets,
// which a clear does not make any less stale.
func (n *Node) clear() {
	n.requests.Add(1)
	n.engine.Load().Clear()
}

// NodeStatus is what GET /v1/stats reports.
type NodeStatus struct {
	Name       string     `json:"name"`
	Config     NodeConfig `json:"config"`
	Items      int64      `json:"items"`
	Bytes      int64      `json:"bytes"`
	Requests   int64      `json:"requests"` // since start
	Hits       int64      `json:"hits"`
	Misses     int64      `json:"misses"`
	Window     Counts     `json:"window"`      // the last 60 seconds, sliding
	BinaryAddr string     `json:"binary_addr"` // the binary data path's address, "" if none
	MaxItem    int64      `json:"max_item_bytes"`
}

// Counts are request counters over some window.
type Counts struct {
	Requests int64 `json:"requests"`
	Hits     int64 `json:"hits"`
	Misses   int64 `json:"misses"`
}

// Status returns the node's current statistics.
func (n *Node) Status() NodeStatus {
	e := n.engine.Load()
	return NodeStatus{
		Name:       n.opts.Name,
		Config:     e.config,
		Items:      int64(e.Len()),
		Bytes:      e.Size(),
		Requests:   n.requests.Load(),
		Hits:       n.hits.Load(),
		Misses:     n.misses.Load(),
		Window:     n.window.last(n.counts(), time.Now()),
		BinaryAddr: n.binaryAddr.Load().(string),
		MaxItem:    n.opts.MaxItemBytes,
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
			e := n.engine.Load()
			s := NodeStats{
				Node: n.opts.Name, Time: now, Items: int64(e.Len()), Bytes: e.Size(),
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

// binaryVersion reads the version prefix of a stored value.
func binaryVersion(stored []byte) uint64 { return binary.BigEndian.Uint64(stored) }
