package scaling

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/internal/awsfake"
)

// The provider against AWS as it behaves: slow boots, nodes that never
// start or die, busy errors, a group that would terminate nodes itself.

// countCalls counts the fake's calls of each operation, and those refused.
func countCalls(fake *awsfake.Server) (ops map[string]int, refused int) {
	ops = map[string]int{}
	for _, c := range fake.Calls() {
		ops[c.Operation]++
		if c.Error != "" {
			refused++
		}
	}
	return ops, refused
}

// eventually calls cond every 10 ms for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestASGPollsTheGroupAtMostEveryPoll checks that Members called in a
// tight loop (as a pool waiting for nodes does) reads the group once per
// Poll, and asks EC2 only about instances it has not seen.
func TestASGPollsTheGroupAtMostEveryPoll(t *testing.T) {
	f := newASGFixtureWith(t, awsfake.Config{}, ASGConfig{Poll: time.Hour, ProbeEvery: time.Nanosecond},
		awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 1}, nil)
	for range 50 {
		f.members(t)
	}
	if err := f.asg.SetSize(t.Context(), 3); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	var got []string
	for range 50 {
		got = f.members(t)
	}
	if len(got) != 3 {
		t.Errorf("members %v, want 3", got)
	}
	ops, _ := countCalls(f.fake)
	if ops["DescribeAutoScalingGroups"] != 2 || ops["DescribeInstances"] != 2 {
		t.Errorf("DescribeAutoScalingGroups %d, DescribeInstances %d calls for 100 Members and a SetSize; want 2 and 2",
			ops["DescribeAutoScalingGroups"], ops["DescribeInstances"])
	}
}

// TestASGMarksDeadNodesUnhealthy checks that an instance whose node never
// starts, and one whose node stops answering, are marked unhealthy, so
// that the group replaces them, and are never members meanwhile.
func TestASGMarksDeadNodesUnhealthy(t *testing.T) {
	var mu sync.Mutex
	stops := map[string]func(){}
	record := func(next awsfake.Launcher) awsfake.Launcher {
		return func(ctx context.Context, id, ip string) (func(), error) {
			stop, err := next(ctx, id, ip)
			mu.Lock()
			stops[ip] = stop
			mu.Unlock()
			return stop, err
		}
	}
	boot := func(n int) awsfake.Boot {
		if n == 2 {
			return awsfake.Boot{Fail: awsfake.NeverStarts}
		}
		return awsfake.Boot{}
	}
	f := newASGFixtureWith(t, awsfake.Config{Boot: boot},
		ASGConfig{Poll: time.Nanosecond, ProbeEvery: time.Nanosecond, StartTimeout: 200 * time.Millisecond, DeadAfter: 200 * time.Millisecond},
		awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 2}, record)
	var seen []string
	members := func() []string {
		m := f.members(t)
		for _, a := range m {
			if !slices.Contains(seen, a) {
				seen = append(seen, a)
			}
		}
		return m
	}
	// Instance 2 (127.0.0.3) never answers: replaced by instance 3.
	eventually(t, "instance 2's replacement", func() bool { return slices.Equal(members(), []string{f.addr(2), f.addr(4)}) })
	// Instance 1's node dies: replaced by instance 4.
	mu.Lock()
	stops["127.0.0.2"]()
	mu.Unlock()
	eventually(t, "instance 1's replacement", func() bool { return slices.Equal(members(), []string{f.addr(4), f.addr(5)}) })
	if diff := cmp.Diff([]string{f.addr(2), f.addr(4), f.addr(5)}, seen); diff != "" {
		t.Errorf("members seen mismatch (-want +got):\n%s", diff)
	}
	f.fake.Wait()
	var marked []string
	for _, in := range f.fake.Instances() {
		if in.State == "terminated" {
			marked = append(marked, in.ID)
		}
	}
	if diff := cmp.Diff([]string{instanceID(1), instanceID(2)}, marked); diff != "" {
		t.Errorf("instances terminated mismatch (-want +got):\n%s", diff)
	}
	if ops, _ := countCalls(f.fake); ops["SetInstanceHealth"] != 2 {
		t.Errorf("SetInstanceHealth calls = %d, want 2", ops["SetInstanceHealth"])
	}
}

// TestASGRetriesBusyCalls checks that the provider's calls succeed when
// AWS refuses a third of them as busy.
func TestASGRetriesBusyCalls(t *testing.T) {
	f := newASGFixtureWith(t, awsfake.Config{BusyRate: 0.3, Seed: 3}, ASGConfig{Poll: time.Nanosecond, ProbeEvery: time.Nanosecond, Backoff: time.Millisecond},
		awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 1}, nil)
	if err := f.asg.SetSize(t.Context(), 4); err != nil {
		t.Fatal(err)
	}
	eventually(t, "4 members", func() bool {
		m, err := f.asg.Members(t.Context())
		return err == nil && len(m) == 4
	})
	if err := f.asg.Remove(t.Context(), f.addr(3)); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	eventually(t, "3 members", func() bool {
		m, err := f.asg.Members(t.Context())
		return err == nil && slices.Equal(m, []string{f.addr(2), f.addr(4), f.addr(5)})
	})
	ops, refused := countCalls(f.fake)
	if refused == 0 {
		t.Errorf("no call was refused (%v): the test tests nothing", ops)
	}
	t.Logf("%d calls refused of %v", refused, ops)
}

// TestASGKeepsTheGroupFromKillingNodes checks that the provider suspends
// AZRebalance and protects the instances, so that removing nodes from one
// zone does not have the group terminate others to even the zones out.
func TestASGKeepsTheGroupFromKillingNodes(t *testing.T) {
	f := newASGFixture(t, awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 6, Zones: []string{"a", "b", "c"}}, nil)
	f.members(t)
	out, err := f.as.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"nodes"}})
	if err != nil {
		t.Fatal(err)
	}
	g := out.AutoScalingGroups[0]
	var suspended []string
	for _, p := range g.SuspendedProcesses {
		suspended = append(suspended, aws.ToString(p.ProcessName))
	}
	if !slices.Equal(suspended, []string{"AZRebalance"}) {
		t.Errorf("suspended processes %v, want [AZRebalance]", suspended)
	}
	for _, in := range g.Instances {
		if !aws.ToBool(in.ProtectedFromScaleIn) {
			t.Errorf("%s not protected from scale in", aws.ToString(in.InstanceId))
		}
	}
	// Both of zone a's nodes go (instances 1 and 4): the group stays
	// unbalanced rather than replace a serving node.
	for _, n := range []int{2, 5} {
		if err := f.asg.Remove(t.Context(), f.addr(n)); err != nil {
			t.Fatal(err)
		}
	}
	f.fake.Wait()
	want := []string{f.addr(3), f.addr(4), f.addr(6), f.addr(7)}
	if diff := cmp.Diff(want, f.members(t)); diff != "" {
		t.Errorf("members mismatch (-want +got):\n%s", diff)
	}
	if got := len(f.fake.Instances()); got != 6 {
		t.Errorf("%d instances launched, want the 6 of the start: the group launched some to rebalance", got)
	}
	c := http.Client{Timeout: time.Second}
	for _, m := range want {
		if resp, err := c.Get("http://" + m + "/healthz"); err != nil {
			t.Errorf("%s: %v", m, err)
		} else {
			resp.Body.Close()
		}
	}
}

// TestASGPollsLessWhileNothingChanges checks the polling backoff: while
// an instance boots and the group stays as it was, reads of the group
// space out to 4 × Poll.
func TestASGPollsLessWhileNothingChanges(t *testing.T) {
	boot := func(n int) awsfake.Boot {
		if n == 2 {
			return awsfake.Boot{Pending: time.Hour}
		}
		return awsfake.Boot{}
	}
	const poll = 50 * time.Millisecond
	f := newASGFixtureWith(t, awsfake.Config{Boot: boot}, ASGConfig{Poll: poll, ProbeEvery: time.Nanosecond},
		awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 1}, nil)
	if err := f.asg.SetSize(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	f.members(t) // the first reads: the group changed (SetSize, upkeep)
	f.members(t)
	before, _ := countCalls(f.fake)
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		f.members(t)
		time.Sleep(5 * time.Millisecond)
	}
	after, _ := countCalls(f.fake)
	reads := after["DescribeAutoScalingGroups"] - before["DescribeAutoScalingGroups"]
	if most := int(time.Since(start)/(4*poll)) + 4; reads > most {
		t.Errorf("%d reads of an unchanging group in %v, want at most %d (one every %v once backed off)", reads, time.Since(start), most, 4*poll)
	}
	t.Logf("%d reads in %v", reads, time.Since(start))
}
