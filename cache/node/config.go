package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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
	// as "Authorization: Bearer <token>", and every connection to the data
	// port first, as memcached -Y asks (a set whose data is "<user>
	// <token>"). It must not be empty.
	Token string
	// DataAuth is DataAuthToken (the default) or DataAuthNone: the data
	// port takes commands without the token, so memcached's own tools work
	// against the node. Serve refuses DataAuthNone unless the data port
	// is on a loopback address.
	DataAuth string
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
	// Observe, when set, is told how long each command on the data port
	// took to serve, by memproto.CommandName.
	Observe func(command string, took time.Duration)
	// Metrics, when set, serves GET /metrics (behind the token) with the
	// handler it returns for the node: the node command passes a
	// Prometheus exposition built outside cache/, which imports only the
	// standard library.
	Metrics func(*Node) http.Handler
}

// Values of Options.DataAuth.
const (
	DataAuthToken = "token"
	DataAuthNone  = "none"
)

// Defaults for Options.
const (
	DefaultCapacity      = 64 << 20
	DefaultMaxItemBytes  = 64 << 20
	DefaultStatsInterval = 5 * time.Second
	DefaultTombstoneTTL  = 2 * time.Minute
)

// ErrBadConfig is returned for a node configuration that cannot apply.
var ErrBadConfig = errors.New("cache: bad node configuration")

// checkConfig returns cfg with its policy's canonical name, or why it
// cannot apply.
func checkConfig(cfg Config) (Config, error) {
	policy, ok := cache.CanonicalPolicy(cfg.Policy)
	if !ok {
		return cfg, fmt.Errorf("%w: unknown policy %q (known: %v)", ErrBadConfig, cfg.Policy, cache.Policies())
	}
	if cfg.Capacity < 0 {
		return cfg, fmt.Errorf("%w: negative capacity %d", ErrBadConfig, cfg.Capacity)
	}
	cfg.Policy = policy
	return cfg, nil
}

// Config returns the node's current capacity and policy.
func (n *Node) Config() Config { return *n.config.Load() }

// Configure applies a capacity and a policy. A new capacity evicts down at
// once; a new policy moves every item that fits into an engine of that
// policy, most valuable first. Reads and writes wait while the items move.
func (n *Node) Configure(cfg Config) error {
	if err := n.checkCapacity(cfg.Capacity); err != nil {
		return err
	}
	cfg, err := checkConfig(cfg)
	if err != nil {
		return err
	}
	n.configMu.Lock()
	defer n.configMu.Unlock()
	if err := n.store.Configure(cfg.Capacity, cfg.Policy); err != nil {
		return fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	n.config.Store(&cfg)
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
