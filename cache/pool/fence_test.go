package pool

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/nodekey"
	"github.com/picpool/picpool/internal/tcpproxy"
)

// Coherence under faults: a node that misses an invalidation must never
// serve what it missed, in any process; a node that hangs must cost its
// own keys one budget, not the pool's throughput.

// proxiedNodes is a Provider whose nodes sit behind proxies (both the
// HTTP API and the data port), so a test can freeze one as SIGSTOP
// would: connections accepted, nothing answered.
type proxiedNodes struct {
	t       testing.TB
	mu      sync.Mutex
	members []string
	nodes   map[string]*proxiedNode
}

type proxiedNode struct {
	node        *node.Node
	http, data  *tcpproxy.Proxy
	stopServing func()
}

// advertised is a listener that tells the node its clients reach it at
// another address (the proxy's), as an address behind NAT would.
type advertised struct {
	net.Listener
	addr net.Addr
}

func (a advertised) Addr() net.Addr { return a.addr }

func (p *proxiedNodes) Members(ctx context.Context) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.members), nil
}

func (p *proxiedNodes) SetSize(ctx context.Context, n int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.members) < n {
		pn := startProxiedNode(p.t)
		p.members = append(p.members, pn.http.Addr())
		if p.nodes == nil {
			p.nodes = map[string]*proxiedNode{}
		}
		p.nodes[pn.http.Addr()] = pn
	}
	return nil
}

func (p *proxiedNodes) Remove(ctx context.Context, member string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.members = slices.DeleteFunc(p.members, func(m string) bool { return m == member })
	return nil
}

func (p *proxiedNodes) node(member string) *proxiedNode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nodes[member]
}

func startProxiedNode(t testing.TB) *proxiedNode {
	n, err := node.New(node.Options{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pn := &proxiedNode{node: n, http: tcpproxy.Start(t, hl.Addr().String()), data: tcpproxy.Start(t, bl.Addr().String())}
	dataAddr, _ := net.ResolveTCPAddr("tcp", pn.data.Addr())
	ctx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{Handler: n.Handler()}
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(hl) })
	wg.Go(func() { n.ServeData(ctx, advertised{bl, dataAddr}) })
	pn.stopServing = func() { cancel(); srv.Close(); wg.Wait() }
	t.Cleanup(pn.stopServing)
	return pn
}

// freeze and thaw act on both of a node's ports.
func (pn *proxiedNode) freeze() { pn.http.Freeze(); pn.data.Freeze() }
func (pn *proxiedNode) thaw()   { pn.http.Thaw(); pn.data.Thaw() }

// faultPools is an owner pool (the writer, as a manager would be) and a
// follower (a gallery in another process) over the same proxied nodes and
// table store. The follower reloads its fences rarely, so only its lease
// can make it see a raise in time.
type faultPools struct {
	nodes          *proxiedNodes
	tables         *MemoryTableStore
	writer, reader *Pool
}

const (
	testLease  = 150 * time.Millisecond
	testBudget = 100 * time.Millisecond
)

func newFaultPools(t *testing.T, n int) *faultPools {
	t.Helper()
	fp := &faultPools{nodes: &proxiedNodes{t: t}, tables: &MemoryTableStore{}}
	opts := Options{
		Provider: fp.nodes, Tables: fp.tables, Token: testToken, InitialNodes: n,
		Config: node.Config{Capacity: 8 << 20, Policy: "lru"}, Timeout: testBudget, Lease: testLease,
		FollowEvery: 20 * time.Millisecond, Settle: 5 * time.Millisecond, ProbeEvery: 20 * time.Millisecond,
	}
	var err error
	if fp.writer, err = New(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	opts.Provider, opts.FencesEvery = nil, time.Hour
	if fp.reader, err = New(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fp.writer.Close)
	t.Cleanup(fp.reader.Close)
	return fp
}

// owner returns the proxied node that owns key.
func (fp *faultPools) owner(key string) *proxiedNode {
	targets := fp.writer.view(context.Background()).targets(nodekey.Of(key))
	return fp.nodes.node(targets[0].Addr())
}

func loadOf(value string, version uint64) LoadFunc {
	return func(context.Context) ([]byte, uint64, error) { return []byte(value), version, nil }
}

// TestInvalidationThatMissesANodeFencesIt is the regression test of the
// hostile review's second finding: a node frozen during a re-upload served
// the replaced image after it resumed, for good. Now the writer fences the
// node it could not reach before it returns, and a reader in another
// process never gets the old value from it again.
func TestInvalidationThatMissesANodeFencesIt(t *testing.T) {
	fp := newFaultPools(t, 1)
	ctx := t.Context()
	if _, _, _, err := fp.reader.GetOrLoad(ctx, "cat", loadOf("v1", 1)); err != nil {
		t.Fatal(err)
	}
	if v, _, hit, _ := fp.reader.GetOrLoad(ctx, "cat", loadOf("v1", 1)); !hit || string(v) != "v1" {
		t.Fatalf("v1 not cached: %q hit=%v", v, hit)
	}
	node := fp.owner("cat")
	node.freeze()
	start := time.Now()
	if err := fp.writer.Invalidate(ctx, "cat", 2); err != nil {
		t.Fatalf("Invalidate with the node frozen: %v", err)
	}
	if took := time.Since(start); took < testLease {
		t.Errorf("Invalidate returned after %v, before the lease (%v) let every reader see the fence", took, testLease)
	}
	node.thaw()
	// The node still holds v1 under its old namespace; nobody may read it.
	waitUp(t, fp.reader, node)
	v, ver, hit, err := fp.reader.GetOrLoad(ctx, "cat", loadOf("v2", 2))
	if err != nil || string(v) != "v2" || ver != 2 || hit {
		t.Fatalf("after the fenced invalidation the reader got %q v%d hit=%v err=%v, want v2 loaded", v, ver, hit, err)
	}
}

// waitUp waits until pool p uses the node again (its probe found it).
func waitUp(t *testing.T, p *Pool, pn *proxiedNode) {
	t.Helper()
	c := p.client(pn.http.Addr())
	p.failed(c, node.ErrUnavailable) // as if a request had found it down: the probe decides
	deadline := time.Now().Add(5 * time.Second)
	for !c.up() {
		if time.Now().After(deadline) {
			t.Fatal("the node's circuit did not close after it answered again")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFrozenNodeCostsOneBudget: with a node frozen, the first request to
// it fails within its budget and opens its circuit; later ones do not wait
// on it at all; and once it answers again it is used again.
func TestFrozenNodeCostsOneBudget(t *testing.T) {
	fp := newFaultPools(t, 1)
	ctx := t.Context()
	node := fp.owner("dog")
	fp.reader.GetOrLoad(ctx, "dog", loadOf("woof", 1))
	node.freeze()
	start := time.Now()
	if v, _, hit, err := fp.reader.GetOrLoad(ctx, "dog", loadOf("woof", 1)); err != nil || hit || string(v) != "woof" {
		t.Fatalf("frozen node: %q hit=%v err=%v, want a miss loaded from the origin", v, hit, err)
	}
	if took := time.Since(start); took > 3*testBudget {
		t.Errorf("the first request to a frozen node took %v, budget %v", took, testBudget)
	}
	start = time.Now()
	for range 20 {
		fp.reader.GetOrLoad(ctx, "dog", loadOf("woof", 1))
	}
	if took := time.Since(start); took > testBudget {
		t.Errorf("20 requests after the circuit opened took %v: they waited on the frozen node", took)
	}
	node.thaw()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, _, hit, _ := fp.reader.GetOrLoad(ctx, "dog", loadOf("woof", 1)); hit {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the node is not used again after it thawed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPurgeRetiresEveryNode: after the generation is raised and Purge
// returns, no entry written before is readable, even on a node that was
// down during the purge and kept them.
func TestPurgeRetiresEveryNode(t *testing.T) {
	fp := newFaultPools(t, 2)
	ctx := t.Context()
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for _, k := range keys {
		fp.reader.GetOrLoad(ctx, k, loadOf("old "+k, 1))
	}
	down := fp.nodes.node(fp.writer.Table().Members[0])
	down.freeze()
	fp.tables.RaiseGeneration() // what deleting every image does, in its transaction
	if err := fp.writer.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	down.thaw()
	waitUp(t, fp.reader, down)
	for _, k := range keys {
		if v, _, ok := fp.reader.Get(ctx, k); ok {
			t.Errorf("%s: %q readable after the purge", k, v)
		}
	}
}

// failingFences is a table store whose fence operations fail while down
// is set: a database that stopped answering.
type failingFences struct {
	*MemoryTableStore
	mu   sync.Mutex
	down bool
}

func (f *failingFences) set(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

func (f *failingFences) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("database down")
	}
	return nil
}

func (f *failingFences) LoadFences(ctx context.Context) (Fences, error) {
	if err := f.err(); err != nil {
		return Fences{}, err
	}
	return f.MemoryTableStore.LoadFences(ctx)
}

func (f *failingFences) RaiseFence(ctx context.Context, node string) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.MemoryTableStore.RaiseFence(ctx, node)
}

// TestInvalidationRetriedWhenTheDatabaseIsBack: an invalidation that can
// neither reach the node nor fence it says so, and Run finishes it once
// the database answers again.
func TestInvalidationRetriedWhenTheDatabaseIsBack(t *testing.T) {
	nodes := &proxiedNodes{t: t}
	tables := &failingFences{MemoryTableStore: &MemoryTableStore{}}
	p, err := New(t.Context(), Options{
		Provider: nodes, Tables: tables, Token: testToken, Timeout: testBudget, Lease: testLease,
		FencesEvery: 10 * time.Millisecond, ProbeEvery: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go p.Run(ctx)
	p.GetOrLoad(ctx, "owl", loadOf("hoot", 1))
	node := nodes.node(p.Table().Members[0])
	node.freeze()
	tables.set(true)
	if err := p.Invalidate(ctx, "owl", 2); !errors.Is(err, ErrNotInvalidated) {
		t.Fatalf("Invalidate with the node frozen and the database down: %v, want ErrNotInvalidated", err)
	}
	tables.set(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, _ := tables.LoadFences(ctx)
		if f.Nodes[node.http.Addr()] > 0 {
			break // the retry fenced the node
		}
		if time.Now().After(deadline) {
			t.Fatal("the pending invalidation was not retried once the database answered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	node.thaw()
	waitUp(t, p, node)
	if v, _, ok := p.Get(ctx, "owl"); ok {
		t.Fatalf("the old value %q is still readable after the retried invalidation", v)
	}
}
