package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/awsfake"
	"github.com/picpool/picpool/internal/testimg"
	"github.com/picpool/picpool/scaling"
	"github.com/picpool/picpool/store"
)

// Helpers of the AWS tests: a fake group whose instances run real cache
// nodes, images, and what the fake says of the group.

// nodeStatsEvery is how often the AWS tests' nodes publish: at each tick
// of a node's one-second clock (a little under a second, so that a tick a
// moment early still publishes).
const nodeStatsEvery = time.Second

// nodeFleet starts the AWS fake with cfg, whose instances each run a real
// cache node (see startAWSNode) with token, publishing to pub; it closes
// when the test ends. It returns the fake and the nodes' port.
func nodeFleet(t *testing.T, cfg awsfake.Config, token string, pub node.StatsPublisher) (*awsfake.Server, int) {
	t.Helper()
	port, err := awsfake.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Launch = func(ctx context.Context, _, ip string) (func(), error) {
		return startAWSNode(ctx, ip, port, token, pub)
	}
	fake := awsfake.NewServer(cfg)
	t.Cleanup(fake.Close)
	return fake, port
}

// startAWSNode serves a cache node as an EC2 instance would: HTTP on
// ip:port, the data port on ip and a free port, statistics every
// nodeStatsEvery.
func startAWSNode(ctx context.Context, ip string, port int, token string, pub node.StatsPublisher) (func(), error) {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	n, err := node.New(node.Options{Token: token, Name: addr, Publisher: pub, StatsInterval: nodeStatsEvery - 100*time.Millisecond})
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	hl, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	bl, err := lc.Listen(ctx, "tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		hl.Close()
		return nil, err
	}
	srv := &node.Server{Node: n, HTTP: hl, Data: bl}
	srv.Start()
	return func() { srv.Stop(time.Second) }, nil
}

// uploadImages stores n distinct noise PNGs of 64×64 (about 12 KB: noise
// does not compress) and returns their keys.
func uploadImages(t *testing.T, ctx context.Context, lib *store.Library, n int) []string {
	t.Helper()
	keys, images := make([]string, n), make([][]byte, n)
	for i := range n {
		keys[i], images[i] = fmt.Sprintf("img-%05d", i), testimg.NoisePNG(t, 64, 64, uint64(i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < n; i += 4 {
				if _, err := lib.Put(ctx, keys[i], gallery.Content{Type: "image/png"}, images[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return keys
}

// groupAddrs returns the node addresses of the instances the fake has in
// the group (pending or in service), sorted.
func groupAddrs(fake *awsfake.Server, port int) []string {
	var out []string
	for _, in := range fake.Instances() {
		if in.LifecycleState == "InService" || in.LifecycleState == "Pending" {
			out = append(out, net.JoinHostPort(in.PrivateIP, strconv.Itoa(port)))
		}
	}
	slices.Sort(out)
	return out
}

// describeCalls counts the fake's Describe calls (Auto Scaling's and
// EC2's) made in [from, to].
func describeCalls(fake *awsfake.Server, from, to time.Time) int {
	n := 0
	for _, c := range fake.Calls() {
		if (c.Operation == "DescribeAutoScalingGroups" || c.Operation == "DescribeInstances") && !c.Time.Before(from) && !c.Time.After(to) {
			n++
		}
	}
	return n
}

// bootsLikeAWS returns the fake's Boot: at AWS's pace divided by scale, an
// instance is pending for 48 to 132 s and its process serves 12 to 48 s
// after it is in service (one to three minutes in all); the launches
// listed in fail go wrong that way.
func bootsLikeAWS(scale time.Duration, seed uint64, fail map[int]awsfake.BootFailure) func(n int) awsfake.Boot {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, 1))
	return func(n int) awsfake.Boot {
		mu.Lock()
		defer mu.Unlock()
		return awsfake.Boot{
			Pending: (48*time.Second + time.Duration(r.Int64N(int64(84*time.Second)))) / scale,
			Start:   (12*time.Second + time.Duration(r.Int64N(int64(36*time.Second)))) / scale,
			Fail:    fail[n],
		}
	}
}

// rebalanceFault is what the AZ rebalance of the acceptance test did.
type rebalanceFault struct {
	victim, addr string // the instance it terminated, and its node
	serving      bool   // the node was a pool member when the rebalance began
	err          error
}

// rebalance runs one AZ rebalance on the group (see awsfake.Rebalance).
func rebalance(fake *awsfake.Server, group string, p *pool.Pool, port int) rebalanceFault {
	before := p.Table().Members
	id, err := fake.Rebalance(group)
	if err != nil {
		return rebalanceFault{err: err}
	}
	f := rebalanceFault{victim: id}
	for _, in := range fake.Instances() {
		if in.ID == id {
			f.addr = net.JoinHostPort(in.PrivateIP, strconv.Itoa(port))
		}
	}
	f.serving = slices.Contains(before, f.addr)
	return f
}

// checkFaults checks that each fault of the acceptance test happened and
// ended as it should: the rebalance killed a serving node, the instance
// whose node never started was marked unhealthy and replaced, the one EC2
// could not launch never served; and it logs the busy errors.
func checkFaults(t *testing.T, fake *awsfake.Server, rebalanced <-chan rebalanceFault, neverStarts, noCapacity int) {
	t.Helper()
	select {
	case f := <-rebalanced:
		switch {
		case f.err != nil:
			t.Errorf("the AZ rebalance failed: %v", f.err)
		case !f.serving:
			t.Errorf("the AZ rebalance killed %s (%s), which was not serving", f.victim, f.addr)
		default:
			t.Logf("the AZ rebalance killed %s, serving node %s", f.victim, f.addr)
		}
	default:
		t.Errorf("no AZ rebalance happened: the pool never reached 8 nodes, or the rebalance did not finish")
	}
	byID := map[string]awsfake.Instance{}
	for _, in := range fake.Instances() {
		byID[in.ID] = in
	}
	if in := byID[awsfake.InstanceID(neverStarts)]; in.State != "terminated" || in.HealthStatus != "Unhealthy" {
		t.Errorf("the instance whose node never started: %+v, want it marked unhealthy and terminated", in)
	}
	if in := byID[awsfake.InstanceID(noCapacity)]; in.State != "terminated" {
		t.Errorf("the instance EC2 could not launch: %+v, want it terminated", in)
	}
	refused := map[string]int{}
	calls := fake.Calls()
	for _, c := range calls {
		if c.Error != "" {
			refused[c.Service+" "+c.Operation+" "+c.Error]++
		}
	}
	t.Logf("%d AWS calls, %d launches; refused: %v", len(calls), len(byID), refused)
}

// clock formats a time of day for the decision log; "-" for none.
func clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("15:04:05")
}

// periodEndOf is the end of the window d was decided on.
func periodEndOf(d scaling.Decision, period time.Duration) time.Time {
	if d.PeriodStart.IsZero() {
		return time.Time{}
	}
	return d.PeriodStart.Add(period)
}
