package pool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picpool/picpool/cache/node"
)

// serveNode serves a node with opts on ln until the test ends.
func serveNode(t testing.TB, ln net.Listener, opts node.Options) {
	t.Helper()
	n, err := node.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := &node.Server{Node: n, HTTP: ln}
	srv.Start()
	t.Cleanup(func() { srv.Stop(0) })
}

// testProvider is a Provider whose behaviour the test writes.
type testProvider struct {
	members func(ctx context.Context) ([]string, error)
	setSize func(ctx context.Context, n int) error
	remove  func(ctx context.Context, member string) error
}

func (f testProvider) Members(ctx context.Context) ([]string, error) { return f.members(ctx) }
func (f testProvider) SetSize(ctx context.Context, n int) error      { return f.setSize(ctx, n) }
func (f testProvider) Remove(ctx context.Context, m string) error    { return f.remove(ctx, m) }

// TestReconcileReplacesGoneNodes kills a node behind the pool's back (as
// an Auto Scaling group terminating an instance would) under reads:
// Reconcile drops it from the table and grows the pool back to its size
// with a new node, and no read fails or sees wrong bytes.
func TestReconcileReplacesGoneNodes(t *testing.T) {
	tp := newTestPool(t, 3, "", 1<<20)
	tp.fill(t, 300)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var requests, failures atomic.Int64
	for g := range 4 {
		wg.Go(func() {
			for i := g; ctx.Err() == nil; i = (i + 7) % 300 {
				v, _, _, err := tp.GetOrLoad(context.Background(), fmt.Sprintf("key-%d", i), func(context.Context) ([]byte, uint64, error) {
					return value(i), 1, nil
				})
				requests.Add(1)
				if err != nil || !bytes.Equal(v, value(i)) {
					failures.Add(1)
				}
			}
		})
	}
	before := tp.Table()
	victim := before.Members[1]
	if err := tp.local.Kill(victim); err != nil {
		t.Fatal(err)
	}
	if err := tp.Reconcile(t.Context()); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	cancel()
	wg.Wait()
	after := tp.Table()
	running, _ := tp.local.Members(t.Context())
	if len(after.Members) != 3 || slices.Contains(after.Members, victim) || !slices.Equal(after.Members, running) || len(after.Previous) != 0 {
		t.Errorf("after Reconcile the table has %v (previous %v), the provider runs %v; want the 3 running nodes, without %s",
			after.Members, after.Previous, running, victim)
	}
	if failures.Load() != 0 {
		t.Errorf("%d of %d reads failed or got wrong bytes", failures.Load(), requests.Load())
	}
	// Nothing to do: the table stays as it is.
	if err := tp.Reconcile(t.Context()); err != nil || tp.Table().Epoch != after.Epoch {
		t.Errorf("Reconcile with nothing to do: %v, epoch %d → %d", err, after.Epoch, tp.Table().Epoch)
	}
}

// TestReconcileWithoutReplacement checks that gone nodes leave the table
// alone when no replacement serves within MemberWait.
func TestReconcileWithoutReplacement(t *testing.T) {
	tp := newTestPool(t, 3, "", 1<<20)
	fixed := testProvider{ // a provider that cannot start nodes
		members: tp.local.Members,
		setSize: func(context.Context, int) error { return nil },
		remove:  tp.local.Remove,
	}
	p, err := New(t.Context(), Options{Provider: fixed, Tables: tp.tables, Token: testToken,
		Settle: time.Millisecond, MemberWait: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	victim := p.Table().Members[0]
	if err := tp.local.Kill(victim); err != nil {
		t.Fatal(err)
	}
	if err := p.Reconcile(t.Context()); err == nil {
		t.Errorf("Reconcile without a replacement: no error")
	}
	if got, want := p.Table().Members, tp.Table().Members[1:]; !slices.Equal(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
}

// TestReconcileRemovesStrays checks that nodes the provider runs outside
// the table (left by a grow that failed) are removed.
func TestReconcileRemovesStrays(t *testing.T) {
	tp := newTestPool(t, 2, "", 1<<20)
	if err := tp.local.SetSize(t.Context(), 4); err != nil {
		t.Fatal(err)
	}
	if err := tp.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	running, _ := tp.local.Members(t.Context())
	if !slices.Equal(running, tp.Table().Members) {
		t.Errorf("provider runs %v, table has %v; want the same", running, tp.Table().Members)
	}
}

// TestGrowWaitsForNewNodesToAnswer checks that a node the provider lists
// before it takes requests is configured once it does, within
// MemberWait, rather than failing the resize; and that a node refusing
// the configuration fails it at once.
func TestGrowWaitsForNewNodesToAnswer(t *testing.T) {
	first, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveNode(t, first, node.Options{Token: testToken})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	late := l.Addr().String()
	l.Close() // nothing listens there for now
	var mu sync.Mutex
	listed := []string{first.Addr().String()}
	p, err := New(t.Context(), Options{
		Provider: testProvider{
			members: func(context.Context) ([]string, error) {
				mu.Lock()
				defer mu.Unlock()
				return slices.Clone(listed), nil
			},
			setSize: func(_ context.Context, n int) error {
				mu.Lock()
				defer mu.Unlock()
				if n > 1 {
					listed = []string{first.Addr().String(), late}
				}
				return nil
			},
			remove: func(context.Context, string) error { return nil },
		},
		Token: testToken, Config: node.Config{Capacity: 1 << 20, Policy: "lru"}, Settle: time.Millisecond, MemberWait: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	started := make(chan *node.Server, 1)
	go func() {
		time.Sleep(300 * time.Millisecond) // the node's process starts
		n, err := node.New(node.Options{Token: testToken, MaxCapacity: 2 << 20, Config: node.Config{Capacity: 1 << 20, Policy: "lru"}})
		if err != nil {
			t.Error(err)
			started <- nil
			return
		}
		ln, err := net.Listen("tcp", late)
		if err != nil {
			t.Error(err)
			started <- nil
			return
		}
		srv := &node.Server{Node: n, HTTP: ln}
		srv.Start()
		started <- srv
	}()
	if err := p.Resize(t.Context(), 2); err != nil {
		t.Fatalf("Resize(2) with a node that answers 300 ms late: %v", err)
	}
	if srv := <-started; srv != nil {
		defer srv.Stop(0)
	}
	if got := p.Table().Members; !slices.Equal(got, []string{first.Addr().String(), late}) {
		t.Errorf("members %v, want %v", got, []string{first.Addr().String(), late})
	}
	// The late node holds at most 2 MB: a configuration above it is
	// refused, and not tried again until MemberWait runs out.
	start := time.Now()
	err = p.configureNew(t.Context(), []string{late}, node.Config{Capacity: 4 << 20, Policy: "lru"})
	if !errors.Is(err, node.ErrBadConfig) && (err == nil || errors.Is(err, node.ErrUnavailable)) {
		t.Errorf("configureNew above the node's limit: %v, want its refusal", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("a refused configuration took %v: it was tried again", took)
	}
}

// TestRunReconcilesEvery checks that an owner's Run reconciles its table
// every ReconcileEvery: a node killed behind the pool's back is replaced
// without anyone calling Reconcile, and a pool without ReconcileEvery
// leaves its table alone.
func TestRunReconcilesEvery(t *testing.T) {
	for _, every := range []time.Duration{0, 20 * time.Millisecond} {
		t.Run(fmt.Sprint(every), func(t *testing.T) {
			local, err := NewLocalProvider(LocalOptions{Node: node.Options{Token: testToken}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { local.Close() })
			p, err := New(t.Context(), Options{Provider: local, Tables: &MemoryTableStore{}, Token: testToken, InitialNodes: 2,
				Settle: time.Millisecond, ReconcileEvery: every})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			ctx, cancel := context.WithCancel(t.Context())
			var wg sync.WaitGroup
			wg.Go(func() { p.Run(ctx) })
			defer wg.Wait()
			defer cancel()
			victim := p.Table().Members[0]
			if err := local.Kill(victim); err != nil {
				t.Fatal(err)
			}
			wait := time.Now().Add(time.Second)
			for slices.Contains(p.Table().Members, victim) && time.Now().Before(wait) {
				time.Sleep(10 * time.Millisecond)
			}
			replaced := !slices.Contains(p.Table().Members, victim) && len(p.Table().Members) == 2
			if replaced != (every > 0) {
				t.Errorf("ReconcileEvery %v: members %v after a second, victim %s; want it replaced: %v", every, p.Table().Members, victim, every > 0)
			}
		})
	}
}
