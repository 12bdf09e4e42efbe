package node

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/picpool/picpool/cache"
)

// Config is what every node of a pool is configured with.
type Config struct {
	Capacity int64  `json:"capacity"` // bytes
	Policy   string `json:"policy"`   // canonical policy name, as cache.Policies lists it
}

// Options configures New. The zero value of each field but Token
// is its default.
type Options struct {
	// Token is the shared secret every request but /healthz must present
	// as "Authorization: Bearer <token>". It must not be empty.
	Token string
	// Config is the initial capacity and policy. Default: 64 MiB,
	// cache.DefaultPolicy.
	Config Config
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
	// MaxCapacity is the most capacity the node takes, in bytes: what its
	// host's memory holds (see HostMaxCapacity). A configuration above it
	// is refused with a message that says the limit, rather than taken
	// and ended by the kernel's OOM killer (the node would restart empty
	// and still look healthy). Default: no limit (Serve: the host's).
	MaxCapacity int64
	// Log receives the node's warnings. Default: discard.
	Log *slog.Logger
	// OnConfig, if set, is called with every configuration the node takes,
	// the initial one included (the node command sizes the Go memory limit
	// from the capacity).
	OnConfig func(Config)
}

// Defaults for Options.
const (
	DefaultCapacity      = 64 << 20
	DefaultMaxItemBytes  = 64 << 20
	DefaultStatsInterval = 5 * time.Second
	DefaultTombstoneTTL  = 2 * time.Minute
)

// ErrBadConfig is returned for a node configuration that cannot apply.
var ErrBadConfig = errors.New("cache: bad node configuration")

func buildEngine(cfg Config) (cache.Engine, Config, error) {
	policy, ok := cache.CanonicalPolicy(cfg.Policy)
	if !ok {
		return nil, cfg, fmt.Errorf("%w: unknown policy %q (known: %v)", ErrBadConfig, cfg.Policy, cache.Policies())
	}
	if cfg.Capacity < 0 {
		return nil, cfg, fmt.Errorf("%w: negative capacity %d", ErrBadConfig, cfg.Capacity)
	}
	cfg.Policy = policy
	e, err := cache.New(policy, cfg.Capacity)
	return e, cfg, err
}

// Config returns the node's current capacity and policy.
func (n *Node) Config() Config { return n.engine.Load().config }

// Configure applies a capacity and a policy. A new capacity evicts down at
// once; a new policy moves every item that fits into an engine of that
// policy, most valuable first. Writes wait while the items move.
func (n *Node) Configure(cfg Config) error {
	if err := n.checkCapacity(cfg.Capacity); err != nil {
		return err
	}
	cur := n.engine.Load()
	if p, ok := cache.CanonicalPolicy(cfg.Policy); ok && p == cur.config.Policy {
		if cfg.Capacity < 0 {
			return fmt.Errorf("%w: negative capacity %d", ErrBadConfig, cfg.Capacity)
		}
		cur.SetCapacity(cfg.Capacity)
		n.engine.Store(&nodeEngine{cur.Engine, Config{cfg.Capacity, p}})
		n.configured(Config{cfg.Capacity, p})
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
	type kv struct {
		key   string
		value []byte
	}
	var items []kv
	var size int64
	if r, ok := old.Engine.(cache.Ranger); ok {
		r.Range(func(k string, v []byte) bool {
			if c := cache.Cost(k, v); size+c <= cfg.Capacity {
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

// checkCapacity refuses a capacity above MaxCapacity.
func (n *Node) checkCapacity(capacity int64) error {
	if limit := n.opts.MaxCapacity; limit > 0 && capacity > limit {
		return fmt.Errorf("%w: a capacity of %d MB is more than this node can hold (at most %d MB, from its memory); choose a smaller capacity, or nodes with more memory",
			ErrBadConfig, capacity>>20, limit>>20)
	}
	return nil
}

func (n *Node) configured(cfg Config) {
	n.curve.restart(cfg, true)
	if n.opts.OnConfig != nil {
		n.opts.OnConfig(cfg)
	}
}
