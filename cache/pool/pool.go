// Package pool routes gallery keys to the cache nodes of one routing
// table and keeps that table, and the nodes behind it, current: it sizes
// the pool through a Provider (and resizes it warm, moving partitions),
// publishes the table through a TableStore for other processes to follow,
// fences nodes that missed an invalidation, stops sending requests to a
// node that does not answer until it does again, and reconciles the table
// with a provider whose nodes also come and go by themselves.
package pool

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/partition"
)

// The pool's size limits.
const (
	MinNodes = 1
	MaxNodes = 8
)

var (
	// ErrNotOwner is returned when a pool without a provider is asked to
	// change the pool: only the owner (the manager or autoscaler side) can.
	ErrNotOwner = errors.New("cache: this process follows the pool table; only the owner can change the pool")
	// ErrSize is returned for a size outside MinNodes..MaxNodes.
	ErrSize = errors.New("cache: pool size out of range")
)

// Options configures New. The zero value of each field but Token is its
// default.
type Options struct {
	// Provider supplies nodes. With one, this pool owns the table: it
	// creates it, resizes and configures the pool. Without one, it follows
	// the table others publish and only reads and writes items.
	Provider Provider
	// Tables is where the table is published for other processes. Default:
	// an in-memory store (one process only).
	Tables TableStore
	// Token is the nodes' shared secret.
	Token string
	// Partitioner names the partitioner of a new table. Default: rendezvous.
	Partitioner string
	// Config is the node configuration of a new table. Default: 64 MiB,
	// cache.DefaultPolicy.
	Config node.Config
	// InitialNodes is the size of a new table. Default: 1.
	InitialNodes int
	// Timeout is each request's budget for a round trip to a node, before
	// the transfer of its value, which gets its bytes at 20 MiB/s on top
	// (see node.Client). Default: 500 ms.
	Timeout time.Duration
	// FollowEvery is how often the table is reloaded. Default: 1 s.
	FollowEvery time.Duration
	// Lease is how old a view of the fences may be before a read reloads
	// it, and so how long a write that raised a fence waits before it is
	// acknowledged (see Fences). Default: 500 ms.
	Lease time.Duration
	// FencesEvery is how often the fences are reloaded in the background,
	// so that reads seldom wait for one. Default: Lease / 4.
	FencesEvery time.Duration
	// Settle is how long a published table takes to reach every process;
	// a resize waits that long before moving entries and before removing a
	// node. Default: twice FollowEvery.
	Settle time.Duration
	// MemberWait bounds the wait for new nodes to serve. Default: 5 min.
	MemberWait time.Duration
	// ReconcileEvery is how often an owner's Run checks the table against
	// the provider (see Reconcile), for a provider whose nodes also come
	// and go by themselves (an Auto Scaling group). Default: 0, never.
	ReconcileEvery time.Duration
	// LoadTimeout bounds one load from the origin. Default: 30 s.
	LoadTimeout time.Duration
	// ProbeEvery is how often a node that failed is asked whether it
	// answers again (see health.go). Default: 250 ms.
	ProbeEvery time.Duration
	// CheckEvery is how often an owner checks its nodes' health and
	// configuration. Default: 5 s.
	CheckEvery time.Duration
	// HotBytes bounds the values this process keeps of what it read from
	// its nodes, each served again after its node confirms its version
	// (see hot.go). Default: DefaultHotBytes; negative: none.
	HotBytes int64
	// Log receives resize reports and node failures. Default: discard.
	Log *slog.Logger
}

// Pool routes keys to the cache nodes of one table and keeps that table
// current. It satisfies scaling's Resizer (Nodes, Resize). Safe for
// concurrent use.
type Pool struct {
	opts  Options
	log   *slog.Logger
	http  *http.Client
	route atomic.Pointer[routing]

	mu      sync.Mutex // guards clients
	clients map[string]*peer

	resizeMu sync.Mutex // one change of the table at a time
	loads    flightGroup[loaded]
	hot      *hotValues        // values read lately, checked by version: see hot.go
	makes    flightGroup[made] // derived values: see derived.go
	lastMove atomic.Pointer[MoveReport]

	fences     atomic.Pointer[fenceView]
	fenceReads flightGroup[struct{}]
	fenceWarn  throttle
	retries    retryQueue
}

// routing is one table, ready to route: per partition its owner's peer,
// and its previous owner's while a move is in progress.
type routing struct {
	table Table
	pt    partition.Partitioner
	owner []*peer
	prev  []*peer // nil where the owner did not change
}

type loaded struct {
	value   []byte
	version uint64
}

// New returns a pool. An owner (with a Provider) makes sure its
// table's nodes are running and configured, creating the table on first
// use; a follower loads the table if one exists. Run keeps it current.
func New(ctx context.Context, opts Options) (*Pool, error) {
	if opts.Token == "" {
		return nil, errors.New("cache: a pool needs the nodes' token")
	}
	if opts.Tables == nil {
		opts.Tables = &MemoryTableStore{}
	}
	if opts.Config == (node.Config{}) {
		opts.Config = node.Config{Capacity: node.DefaultCapacity, Policy: cache.DefaultPolicy}
	}
	opts.InitialNodes = min(max(opts.InitialNodes, MinNodes), MaxNodes)
	opts.Timeout = cmp.Or(opts.Timeout, 500*time.Millisecond)
	opts.FollowEvery = cmp.Or(opts.FollowEvery, time.Second)
	opts.Lease = cmp.Or(opts.Lease, 500*time.Millisecond)
	opts.FencesEvery = cmp.Or(opts.FencesEvery, opts.Lease/4)
	opts.Settle = cmp.Or(opts.Settle, 2*opts.FollowEvery)
	opts.MemberWait = cmp.Or(opts.MemberWait, 5*time.Minute)
	opts.LoadTimeout = cmp.Or(opts.LoadTimeout, 30*time.Second)
	opts.ProbeEvery = cmp.Or(opts.ProbeEvery, 250*time.Millisecond)
	opts.CheckEvery = cmp.Or(opts.CheckEvery, 5*time.Second)
	opts.HotBytes = cmp.Or(opts.HotBytes, DefaultHotBytes)
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if _, err := partition.New(opts.Partitioner); err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	p := &Pool{
		opts:    opts,
		log:     opts.Log,
		http:    &http.Client{Transport: transport},
		clients: map[string]*peer{},
		hot:     newHotValues(opts.HotBytes),
	}
	p.route.Store(&routing{pt: partition.Rendezvous{}})
	p.fences.Store(&fenceView{})
	p.fenceWarn.every = 10 * time.Second
	if err := p.refreshFences(ctx); err != nil {
		return nil, err
	}
	if opts.Provider == nil {
		t, err := opts.Tables.LoadTable(ctx)
		switch {
		case errors.Is(err, ErrNoTable): // follow it once the owner saves one
		case err != nil:
			return nil, fmt.Errorf("cache: load pool table: %w", err)
		default:
			if err := p.apply(t); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
	if err := p.bootstrap(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Owner reports whether this pool owns the table (it has a provider).
func (p *Pool) Owner() bool { return p.opts.Provider != nil }

// Table returns the table the pool routes by.
func (p *Pool) Table() Table { return cloneTable(p.route.Load().table) }

// Nodes returns the number of nodes the pool routes to.
func (p *Pool) Nodes() int { return len(p.route.Load().table.Members) }

// LastMove reports the entries the last resize moved, or nil.
func (p *Pool) LastMove() *MoveReport { return p.lastMove.Load() }

// bootstrap makes the owner's table match running, configured nodes: it
// adopts the stored table when all its members serve, and otherwise
// starts nodes for a table of the stored (or initial) size.
func (p *Pool) bootstrap(ctx context.Context) error {
	p.resizeMu.Lock()
	defer p.resizeMu.Unlock()
	stored, err := p.opts.Tables.LoadTable(ctx)
	size, cfg, partitioner := p.opts.InitialNodes, p.opts.Config, p.opts.Partitioner
	switch {
	case errors.Is(err, ErrNoTable):
		stored = Table{}
	case err != nil:
		return fmt.Errorf("cache: load pool table: %w", err)
	default:
		size, cfg, partitioner = len(stored.Members), stored.Config, stored.Partitioner
	}
	members, err := p.opts.Provider.Members(ctx)
	if err != nil {
		return fmt.Errorf("cache: list pool members: %w", err)
	}
	if len(stored.Members) > 0 && len(stored.Previous) == 0 && containsAll(members, stored.Members) {
		return p.apply(stored)
	}
	size = min(max(size, MinNodes), MaxNodes)
	if len(members) < size {
		if err := p.opts.Provider.SetSize(ctx, size); err != nil {
			return fmt.Errorf("cache: start %d nodes: %w", size, err)
		}
		if members, err = p.waitMembers(ctx, size); err != nil {
			return err
		}
	}
	members = members[:size]
	if err := p.configureNew(ctx, members, cfg); err != nil {
		return err
	}
	if partitioner == "" {
		partitioner = partition.DefaultName
	}
	t := Table{Epoch: stored.Epoch + 1, Partitioner: partitioner, Members: members, Config: cfg, Updated: time.Now()}
	return p.publish(ctx, stored.Epoch, t)
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// waitMembers polls the provider until it lists at least n members.
func (p *Pool) waitMembers(ctx context.Context, n int) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.MemberWait)
	defer cancel()
	for {
		members, err := p.opts.Provider.Members(ctx)
		if err == nil && len(members) >= n {
			return members, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cache: waiting for %d nodes to serve (have %d): %w", n, len(members), errors.Join(err, ctx.Err()))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// configureAll applies cfg to every given node, in parallel.
func (p *Pool) configureAll(ctx context.Context, members []string, cfg node.Config) error {
	return p.configure(ctx, members, cfg, false)
}

// configureNew applies cfg to nodes joining the pool, trying a node that
// cannot be reached again until MemberWait runs out: a provider may list
// a node a moment before it takes requests (an instance whose process is
// still starting), and a configuration lost to a passing failure should
// not fail a resize. A node that refuses the configuration is not tried
// again.
func (p *Pool) configureNew(ctx context.Context, members []string, cfg node.Config) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.MemberWait)
	defer cancel()
	return p.configure(ctx, members, cfg, true)
}

func (p *Pool) configure(ctx context.Context, members []string, cfg node.Config, retry bool) error {
	errs := make([]error, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() {
			for wait := 50 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
				err := p.client(m).Configure(ctx, cfg)
				if err == nil {
					return
				}
				if !retry || !errors.Is(err, node.ErrUnavailable) || sleep(ctx, wait) != nil {
					errs[i] = fmt.Errorf("configure node %s: %w", m, err)
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// publish saves t in place of the table at prevEpoch and routes by it.
func (p *Pool) publish(ctx context.Context, prevEpoch uint64, t Table) error {
	if err := p.opts.Tables.SwapTable(ctx, prevEpoch, t); err != nil {
		if errors.Is(err, ErrEpochConflict) {
			return fmt.Errorf("cache: another process changed the pool table meanwhile; try again: %w", err)
		}
		return fmt.Errorf("cache: save pool table: %w", err)
	}
	return p.apply(t)
}

// apply routes by t, if it is newer than the table routed by now.
func (p *Pool) apply(t Table) error {
	cur := p.route.Load()
	if cur.table.Members != nil && t.Epoch <= cur.table.Epoch {
		return nil
	}
	pt, err := partition.New(t.Partitioner)
	if err != nil {
		return err
	}
	r := &routing{table: cloneTable(t), pt: pt}
	if len(t.Members) > 0 {
		r.owner = make([]*peer, pt.Partitions())
		for part, i := range partition.Owners(pt, t.Members) {
			r.owner[part] = p.client(t.Members[i])
		}
	}
	if len(t.Previous) > 0 && len(t.Members) > 0 {
		r.prev = make([]*peer, pt.Partitions())
		for part, i := range partition.Owners(pt, t.Previous) {
			if c := p.client(t.Previous[i]); c != r.owner[part] {
				r.prev[part] = c
			}
		}
	}
	p.route.Store(r)
	p.dropClients(append(slices.Clone(t.Members), t.Previous...))
	return nil
}

// client returns the shared peer of a member.
func (p *Pool) client(addr string) *peer {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.clients[addr]
	if !ok {
		c = newPeer(node.NewClient(addr, p.opts.Token, p.http, p.opts.Timeout))
		p.clients[addr] = c
	}
	return c
}

// dropClients closes the clients of nodes no longer in keep.
func (p *Pool) dropClients(keep []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, c := range p.clients {
		if !slices.Contains(keep, addr) {
			c.close()
			delete(p.clients, addr)
		}
	}
}

// Run keeps the pool current until ctx is done: it reloads the published
// table every FollowEvery, so a pool in another process (or another
// owner's change) reaches this one within two intervals, and the fences
// every FencesEvery, so reads seldom wait for them; it retries the
// invalidations that could not finish; an owner also checks its nodes,
// and reconciles its table with its provider every ReconcileEvery.
func (p *Pool) Run(ctx context.Context) {
	if p.opts.ReconcileEvery > 0 && p.Owner() {
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(func() { p.reconcileEvery(ctx) })
	}
	tables := time.NewTicker(p.opts.FollowEvery)
	defer tables.Stop()
	fences := time.NewTicker(p.opts.FencesEvery)
	defer fences.Stop()
	checks := time.NewTicker(p.opts.CheckEvery)
	defer checks.Stop()
	for {
		select {
		case <-ctx.Done():
			p.reportPending()
			return
		case <-fences.C:
			if err := p.refreshFences(ctx); err != nil && ctx.Err() == nil && p.fenceWarn.allow(time.Now()) {
				p.log.Warn("reload the pool's fences", "err", err)
			}
			p.retryInvalidations(ctx)
		case <-tables.C:
			p.reloadTable(ctx)
		case <-checks.C:
			if p.Owner() {
				p.checkMembers(ctx)
			}
		}
	}
}

func (p *Pool) reloadTable(ctx context.Context) {
	table, err := p.opts.Tables.LoadTable(ctx)
	if err != nil {
		if !errors.Is(err, ErrNoTable) && ctx.Err() == nil {
			p.log.Warn("reload pool table", "err", err)
		}
		return
	}
	if err := p.apply(table); err != nil {
		p.log.Warn("apply pool table", "epoch", table.Epoch, "err", err)
	}
}

// Close drops the pool's connections to its nodes.
func (p *Pool) Close() {
	p.dropClients(nil)
	p.http.CloseIdleConnections()
}
