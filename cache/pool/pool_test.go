package pool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/nodekey"
	"github.com/picpool/picpool/cache/partition"
)

// testToken is the nodes' token in this package's tests.
const testToken = "test-token"

// testPool is an owner pool over a local provider, with quick timings.
type testPool struct {
	*Pool
	local  *LocalProvider
	tables *MemoryTableStore
}

// loadedMachineBudget is the item budget of test pools that do not test
// failures: on a CI machine loaded many times over, with the race
// detector, a node hop can take far longer than production's 500 ms, and
// a tripped circuit would turn an expected hit into a miss.
const loadedMachineBudget = 5 * time.Second

func newTestPool(t testing.TB, nodes int, partitioner string, capacity int64) *testPool {
	t.Helper()
	local, err := NewLocalProvider(LocalOptions{Node: node.Options{Token: testToken}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	tables := &MemoryTableStore{}
	p, err := New(t.Context(), Options{
		Provider: local, Tables: tables, Token: testToken, Partitioner: partitioner,
		Config: node.Config{Capacity: capacity, Policy: "lru"}, InitialNodes: nodes,
		FollowEvery: 20 * time.Millisecond, Settle: 5 * time.Millisecond, ProbeEvery: 20 * time.Millisecond,
		Timeout: loadedMachineBudget,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return &testPool{Pool: p, local: local, tables: tables}
}

// value returns a distinct, checkable value for key i.
func value(i int) []byte {
	return []byte(strings.Repeat(fmt.Sprintf("value-%d;", i), 1+i%7))
}

// fill puts n keys into the pool at version 1.
func (tp *testPool) fill(t testing.TB, n int) {
	t.Helper()
	for i := range n {
		if !tp.Set(t.Context(), fmt.Sprintf("key-%d", i), 1, value(i)) {
			t.Fatalf("Set key-%d was not stored", i)
		}
	}
}

// nodeKey is key's node key on member, in the pool's current namespace.
func (tp *testPool) nodeKey(key, member string) string {
	f := tp.fences.Load()
	return nodekey.Of(key).In(f.ns(member))
}

// checkOnOwners asserts every key is held, with identical bytes, by the
// node that owns it under the current table.
func (tp *testPool) checkOnOwners(t *testing.T, n int) {
	t.Helper()
	tab := tp.Table()
	pt, _ := partition.New(tab.Partitioner)
	own := partition.Owners(pt, tab.Members)
	lost := 0
	for i := range n {
		k := fmt.Sprintf("key-%d", i)
		owner := tab.Members[own[pt.Partition(k)]]
		if _, ok := tp.local.Node(owner); !ok {
			t.Fatalf("owner %s of %s is not running", owner, k)
		}
		got, _, hit, err := tp.client(owner).Peek(t.Context(), tp.nodeKey(k, owner))
		if err != nil {
			t.Fatalf("%s on %s: %v", k, owner, err)
		}
		if !hit {
			lost++
			continue
		}
		if !bytes.Equal(got, value(i)) {
			t.Fatalf("%s on %s holds other bytes", k, owner)
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d entries not on their new owner", lost, n)
	}
	// Moved entries are not left behind on their old owners.
	var held int64
	for _, h := range tp.Health(t.Context()) {
		held += h.Status.Items
	}
	if held != int64(n) {
		t.Fatalf("the nodes hold %d items in all, want %d: copies left behind", held, n)
	}
}

// TestResizeEveryPair fills a pool, resizes N→M for every N≠M in 1..8
// under both partitioners, and finds every entry on its new owner.
func TestResizeEveryPair(t *testing.T) {
	const keys = 400
	for _, partitioner := range []string{partition.NameRendezvous, partition.NameECE1779} {
		for from := MinNodes; from <= MaxNodes; from++ {
			for to := MinNodes; to <= MaxNodes; to++ {
				if from == to {
					continue
				}
				t.Run(fmt.Sprintf("%s/%d→%d", partitioner, from, to), func(t *testing.T) {
					tp := newTestPool(t, from, partitioner, 64<<20)
					tp.fill(t, keys)
					if err := tp.Resize(t.Context(), to); err != nil {
						t.Fatal(err)
					}
					if got := tp.Nodes(); got != to {
						t.Fatalf("Nodes() = %d after Resize(%d)", got, to)
					}
					if members, _ := tp.local.Members(t.Context()); len(members) != to {
						t.Fatalf("provider runs %d nodes after Resize(%d)", len(members), to)
					}
					tp.checkOnOwners(t, keys)
					if r := tp.LastMove(); r == nil || r.Failed != 0 || r.Partitions == 0 {
						t.Fatalf("move report %+v", r)
					}
				})
			}
		}
	}
}

func TestResizeRefusesOutOfRange(t *testing.T) {
	tp := newTestPool(t, 2, "", 1<<20)
	for _, n := range []int{0, -1, 9} {
		err := tp.Resize(t.Context(), n)
		if !errors.Is(err, ErrSize) || !strings.Contains(err.Error(), fmt.Sprintf("%d nodes asked, the pool takes 1 to 8", n)) {
			t.Fatalf("Resize(%d): %v", n, err)
		}
	}
	if tp.Nodes() != 2 {
		t.Fatalf("size changed to %d", tp.Nodes())
	}
}

// TestFollowerConverges: a pool without a provider (a gallery in another
// process) follows the owner's table within 2 s.
func TestFollowerConverges(t *testing.T) {
	tp := newTestPool(t, 2, "", 1<<20)
	follower, err := New(t.Context(), Options{Tables: tp.tables, Token: testToken, FollowEvery: time.Second, Timeout: loadedMachineBudget})
	if err != nil {
		t.Fatal(err)
	}
	defer follower.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go follower.Run(ctx)
	if follower.Nodes() != 2 {
		t.Fatalf("follower starts with %d nodes, want 2", follower.Nodes())
	}
	if err := follower.Resize(t.Context(), 3); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("follower Resize: %v, want ErrNotOwner", err)
	}
	if err := tp.Resize(t.Context(), 3); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	for follower.Table().Epoch != tp.Table().Epoch {
		if time.Since(done) > 2*time.Second {
			t.Fatalf("follower at epoch %d, owner at %d, 2 s after the resize", follower.Table().Epoch, tp.Table().Epoch)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The follower reads what the owner wrote.
	tp.Set(t.Context(), "shared", 1, []byte("x"))
	if v, _, hit := follower.Get(t.Context(), "shared"); !hit || string(v) != "x" {
		t.Fatalf("follower Get = %q %v", v, hit)
	}
}

// TestOwnerAdoptsStoredTable: a new owner process keeps the stored size
// and configuration, and starts fresh nodes when the stored ones are gone.
func TestOwnerAdoptsStoredTable(t *testing.T) {
	tp := newTestPool(t, 3, partition.NameECE1779, 1<<20)
	if err := tp.Configure(t.Context(), node.Config{Capacity: 2 << 20, Policy: "rr"}); err != nil {
		t.Fatal(err)
	}
	before := tp.Table()
	local2, _ := NewLocalProvider(LocalOptions{Node: node.Options{Token: testToken}})
	defer local2.Close()
	p2, err := New(t.Context(), Options{Provider: local2, Tables: tp.tables, Token: testToken, Timeout: loadedMachineBudget})
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	after := p2.Table()
	if after.Epoch != before.Epoch+1 || len(after.Members) != 3 || after.Partitioner != partition.NameECE1779 ||
		after.Config != (node.Config{Capacity: 2 << 20, Policy: "random"}) {
		t.Fatalf("new owner's table %+v, stored %+v", after, before)
	}
	for _, h := range p2.Health(t.Context()) {
		if !h.Healthy || h.Status.Config != after.Config {
			t.Fatalf("node %s not configured: %+v", h.Addr, h)
		}
	}
}

// TestNewDefaultsToDefaultPolicy: an owner given no node configuration
// creates its table with the policy the project recommends
// (cache.DefaultPolicy), and its nodes run it.
func TestNewDefaultsToDefaultPolicy(t *testing.T) {
	local, err := NewLocalProvider(LocalOptions{Node: node.Options{Token: testToken}})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	p, err := New(t.Context(), Options{Provider: local, Token: testToken, Timeout: loadedMachineBudget})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	want := node.Config{Capacity: node.DefaultCapacity, Policy: cache.DefaultPolicy}
	if got := p.Table().Config; got != want {
		t.Fatalf("table config %+v, want %+v", got, want)
	}
	for _, h := range p.Health(t.Context()) {
		if !h.Healthy || h.Status.Config != want {
			t.Fatalf("node %s: %+v, want it healthy with %+v", h.Addr, h, want)
		}
	}
}

// TestGetOrLoadSingleflight: a hundred concurrent misses on one key cause
// one load, and every caller gets the value.
func TestGetOrLoadSingleflight(t *testing.T) {
	tp := newTestPool(t, 2, "", 1<<20)
	var loads atomic.Int32
	release := make(chan struct{})
	load := func(ctx context.Context) ([]byte, uint64, error) {
		loads.Add(1)
		<-release
		return []byte("from the origin"), 7, nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			v, ver, _, err := tp.GetOrLoad(t.Context(), "hot", load)
			if err != nil || string(v) != "from the origin" || ver != 7 {
				errs <- fmt.Errorf("GetOrLoad = %q v%d %v", v, ver, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let the callers pile up on the load
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for 100 concurrent misses, want 1", n)
	}
	if _, _, hit, _ := tp.GetOrLoad(t.Context(), "hot", load); !hit {
		t.Fatal("the loaded value was not put into the pool")
	}
}

// TestStaleLoadCannotOverwrite: a reader that loaded version 1 before the
// key was replaced cannot put version 1 back after the writer's
// invalidation.
func TestStaleLoadCannotOverwrite(t *testing.T) {
	tp := newTestPool(t, 2, "", 1<<20)
	ctx := t.Context()
	tp.Set(ctx, "img", 1, []byte("v1"))
	if err := tp.Invalidate(ctx, "img", 2); err != nil { // the upload of v2
		t.Fatal(err)
	}
	if tp.Set(ctx, "img", 1, []byte("v1")) { // the slow reader
		t.Fatal("a stale v1 was stored after the invalidation at v2")
	}
	if !tp.Set(ctx, "img", 2, []byte("v2")) {
		t.Fatal("v2 was refused")
	}
	if v, ver, _ := tp.Get(ctx, "img"); string(v) != "v2" || ver != 2 {
		t.Fatalf("Get = %q v%d, want v2", v, ver)
	}
}

// TestDeadNodeIsAMiss kills a node while readers run: no request fails,
// the dead node's keys load from the origin.
func TestDeadNodeIsAMiss(t *testing.T) {
	tp := newTestPool(t, 3, "", 1<<20)
	tp.fill(t, 300)
	load := func(i int) LoadFunc {
		return func(context.Context) ([]byte, uint64, error) { return value(i), 1, nil }
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var requests, failures, wrong atomic.Int64
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for ctx.Err() == nil {
				i := r.IntN(300)
				v, _, _, err := tp.GetOrLoad(context.Background(), fmt.Sprintf("key-%d", i), load(i))
				requests.Add(1)
				if err != nil {
					failures.Add(1)
				} else if !bytes.Equal(v, value(i)) {
					wrong.Add(1)
				}
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	victim := tp.Table().Members[1]
	if err := tp.local.Kill(victim); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	wg.Wait()
	if failures.Load() != 0 || wrong.Load() != 0 {
		t.Fatalf("%d of %d requests failed, %d got wrong bytes, with a dead node", failures.Load(), requests.Load(), wrong.Load())
	}
	var sawDead bool
	for _, h := range tp.Health(t.Context()) {
		if h.Addr == victim {
			sawDead = !h.Healthy && h.Error != ""
		}
	}
	if !sawDead {
		t.Fatal("pool health does not report the dead node")
	}
	t.Logf("%d requests, none failed", requests.Load())
}

// TestConcurrentResizes runs readers and writers while the pool grows and
// shrinks; run with -race. Nothing fails, and no reader ever sees a
// version older than one it has seen for the same key.
func TestConcurrentResizes(t *testing.T) {
	tp := newTestPool(t, 2, "", 4<<20)
	const keys = 50
	var versions [keys]atomic.Uint64 // the origin: latest version per key
	for i := range keys {
		versions[i].Store(1)
	}
	origin := func(i int) LoadFunc {
		return func(context.Context) ([]byte, uint64, error) {
			v := versions[i].Load()
			return []byte(fmt.Sprintf("key-%d@%d", i, v)), v, nil
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := range 6 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 9))
			seen := map[int]uint64{}
			for ctx.Err() == nil {
				i := r.IntN(keys)
				k := fmt.Sprintf("key-%d", i)
				if g == 0 && r.IntN(4) == 0 { // a writer: new version, then invalidate
					v := versions[i].Add(1)
					tp.Invalidate(context.Background(), k, v)
					continue
				}
				v, ver, _, err := tp.GetOrLoad(context.Background(), k, origin(i))
				if err != nil {
					errs <- err.Error()
					return
				}
				if want := fmt.Sprintf("%s@%d", k, ver); string(v) != want {
					errs <- fmt.Sprintf("%s: bytes %q do not match version %d", k, v, ver)
					return
				}
				if ver < seen[i] {
					errs <- fmt.Sprintf("%s: saw version %d after %d", k, ver, seen[i])
					return
				}
				seen[i] = ver
			}
		})
	}
	for _, n := range []int{3, 5, 2, 4, 1, 3} {
		if err := tp.Resize(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// TestConfigureReachesEveryNodeAndJoiners: capacity and policy apply to all
// nodes, and a node that joins later gets them before it serves.
func TestConfigureReachesEveryNodeAndJoiners(t *testing.T) {
	tp := newTestPool(t, 2, "", 1<<20)
	want := node.Config{Capacity: 3 << 20, Policy: "random"}
	if err := tp.Configure(t.Context(), node.Config{Capacity: 3 << 20, Policy: "RR"}); err != nil {
		t.Fatal(err)
	}
	if err := tp.Resize(t.Context(), 4); err != nil {
		t.Fatal(err)
	}
	for _, h := range tp.Health(t.Context()) {
		if h.Status.Config != want {
			t.Fatalf("node %s config %+v, want %+v", h.Addr, h.Status.Config, want)
		}
	}
	if err := tp.Configure(t.Context(), node.Config{Capacity: 1, Policy: "mru"}); !errors.Is(err, node.ErrBadConfig) {
		t.Fatalf("unknown policy: %v", err)
	}
}

// TestOneMissCountsOnce: a miss that loads from the origin counts as one
// lookup on its node, although the load looks once more before loading.
func TestOneMissCountsOnce(t *testing.T) {
	tp := newTestPool(t, 1, "", 1<<20)
	load := func(context.Context) ([]byte, uint64, error) { return []byte("v"), 1, nil }
	tp.GetOrLoad(t.Context(), "k", load) // miss, load
	tp.GetOrLoad(t.Context(), "k", load) // hit
	if c := tp.Window(t.Context()); c.Hits != 1 || c.Misses != 1 {
		t.Fatalf("node counts %+v, want 1 hit and 1 miss", c)
	}
}
