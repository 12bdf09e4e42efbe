package mrc

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picpool/picpool/cache"
)

// Options configures New. The zero value of each field is its default.
type Options struct {
	// Policy is the node's replacement policy, by any name cache.New
	// takes. Default: cache.DefaultPolicy.
	Policy string
	// Capacity is the node's capacity in bytes: the curve spans 1/16 to
	// 16 times it for lru, 1/8 to 8 times it for the other policies, the
	// sizes of a pool of 1 to 8 such nodes seen from any one of them. A
	// node whose capacity changes starts a new Recorder. Default (and the
	// floor): 1 MiB.
	Capacity int64
	// Window is how far back the curve looks. Default: 10 minutes.
	Window time.Duration
	// SubWindows is how many steps the window slides by: the oldest step
	// ages out at once. Default: 5, so the curve covers the last 8 to 10
	// minutes.
	SubWindows int
	// MaxMemory bounds the bytes the Recorder holds (see Memory); it
	// samples fewer keys to stay under it. Default: 1 % of Capacity, at
	// most 2 MiB.
	MaxMemory int64
	// Seed seeds the key hash and the random policy's choices. Default:
	// random. Tests set it to replay alike.
	Seed uint64
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Defaults and bounds of Options.
const (
	DefaultWindow     = 10 * time.Minute
	DefaultSubWindows = 5
	MinCapacity       = 1 << 20
	MaxMemoryCap      = 2 << 20
	// minThreshold is the lowest sampling threshold: a rate of 1/65536.
	minThreshold = fullRate >> 16
	// miniSampleKeys is the keyCap of policies other than lru: with some
	// 2,500 keys sampled or more, the curve's mean error stays under 0.03
	// (TestAccuracy); 4,096 leaves a margin.
	miniSampleKeys = 4096
)

// ErrBadOptions is what New's errors for invalid options match.
var ErrBadOptions = errors.New("mrc: invalid options")

// Recorder keeps one node's miss-ratio curve (see the package comment).
// It is safe for concurrent use.
type Recorder struct {
	seed      uint64
	threshold atomic.Uint64 // keys sampled: hash>>32 below it
	all       requestCounter
	now       func() time.Time
	budget    int64
	policy    string

	mu      sync.Mutex
	win     window
	tallies []tally
	m       model
	// After the rate rises, keys newly sampled (hash>>32 at or above
	// settleBelow) have no history: until settleUntil, the first request
	// the model sees of one is not counted, as it would count as a miss.
	settleBelow uint64
	settleUntil time.Time
	// clock is the time the window last advanced to; sampledCount counts
	// sampled requests, for checkEvery.
	clock        time.Time
	sampledCount uint64
	// keyCap, if not 0, bounds the distinct keys sampled in a sub-window
	// (capKeys counts them since the rate or the sub-window last
	// changed): miniature caches cost a microsecond or more a sampled
	// request, and beyond keyCap keys more of them buy little accuracy.
	keyCap  float64
	capKeys distinct
	// pending holds sampled misses waiting for their value (see Miss).
	pending [pendingSlots]pending
}

// New returns a Recorder for a node of the given policy and capacity.
func New(opts Options) (*Recorder, error) {
	policy := cache.DefaultPolicy
	if opts.Policy != "" {
		p, ok := cache.CanonicalPolicy(opts.Policy)
		if !ok {
			return nil, fmt.Errorf("%w: policy %q (known: %v)", ErrBadOptions, opts.Policy, cache.Policies())
		}
		policy = p
	}
	if opts.Capacity < 0 || opts.Window < 0 || opts.SubWindows < 0 || opts.MaxMemory < 0 {
		return nil, fmt.Errorf("%w: capacity %d, window %v, sub-windows %d and memory %d must not be negative",
			ErrBadOptions, opts.Capacity, opts.Window, opts.SubWindows, opts.MaxMemory)
	}
	capacity := max(opts.Capacity, MinCapacity)
	span := cmp.Or(opts.Window, DefaultWindow) / time.Duration(cmp.Or(opts.SubWindows, DefaultSubWindows))
	subs := cmp.Or(opts.SubWindows, DefaultSubWindows)
	if span <= 0 {
		return nil, fmt.Errorf("%w: a window of %v cannot hold %d sub-windows", ErrBadOptions, opts.Window, subs)
	}
	r := &Recorder{
		seed:   cmp.Or(opts.Seed, rand.Uint64()),
		now:    opts.Now,
		budget: cmp.Or(opts.MaxMemory, min(MaxMemoryCap, capacity/100)),
		policy: policy,
	}
	if r.now == nil {
		r.now = time.Now
	}
	var bins int
	if policy == "lru" {
		s := newStack(capacity, subs)
		r.m, bins = s, s.bins()
	} else {
		m, err := newMinisim(policy, capacity, r.seed)
		if err != nil {
			return nil, fmt.Errorf("mrc: %w", err)
		}
		s := newStack(capacity, subs)
		r.m, bins = newGuided(s, m), s.bins()+m.bins()
		r.keyCap = miniSampleKeys
	}
	r.tallies = make([]tally, subs)
	for i := range r.tallies {
		r.tallies[i].misses = make([]float64, bins)
	}
	if g, ok := r.m.(*guided); ok {
		g.lruBytes = max(r.variableBudget()/4, minStackBytes)
	}
	r.clock = r.now()
	r.win = window{span: span, n: subs, start: r.clock}
	r.threshold.Store(fullRate)
	return r, nil
}
