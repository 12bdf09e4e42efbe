package awsfake_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/internal/awsfake"
)

// Tests of the ways the fake is slow or fails like AWS: staged boots,
// failed launches and processes, health replacement, zones and
// rebalancing, scale-in protection, busy errors.

func (f *fleet) suspend(t *testing.T, group string, processes ...string) {
	t.Helper()
	if _, err := f.as.SuspendProcesses(t.Context(), &autoscaling.SuspendProcessesInput{
		AutoScalingGroupName: aws.String(group), ScalingProcesses: processes}); err != nil {
		t.Fatal(err)
	}
}

// zones is what DescribeAutoScalingGroups says of a group's instances:
// "id zone" of each active one, and their count per zone.
func (f *fleet) zones(t *testing.T, group string) map[string]int {
	t.Helper()
	out, err := f.as.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, z := range out.AutoScalingGroups[0].AvailabilityZones {
		counts[z] = 0
	}
	for _, in := range out.AutoScalingGroups[0].Instances {
		if in.LifecycleState == "InService" || in.LifecycleState == "Pending" {
			counts[aws.ToString(in.AvailabilityZone)]++
		}
	}
	return counts
}

// TestBootStages checks an instance's stages: pending for Boot.Pending,
// then in service and running while its process is still starting (not
// reachable), then serving; and that Close does not wait out a long boot.
func TestBootStages(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	boot := func(n int) awsfake.Boot {
		if n == 3 {
			return awsfake.Boot{Pending: time.Hour}
		}
		return awsfake.Boot{}
	}
	f := newFaultyFleet(t, awsfake.Config{Boot: boot}, func(next awsfake.Launcher) awsfake.Launcher {
		return func(ctx context.Context, id, ip string) (func(), error) {
			if ip == "127.0.0.3" {
				<-release // the user data of instance 2 takes its time
			}
			return next(ctx, id, ip)
		}
	})
	if err := f.fake.AddGroup(awsfake.Group{Name: "nodes", MinSize: 0, MaxSize: 3, DesiredCapacity: 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "instance 2 in service", func() bool {
		_, got := f.members(t, "nodes")
		return slices.Contains(got, id(2)+" InService Healthy")
	})
	if _, err := f.get("127.0.0.3"); err == nil {
		t.Errorf("instance 2 answers before its process started")
	}
	once.Do(func() { close(release) })
	waitFor(t, "instance 2's process", func() bool { body, _ := f.get("127.0.0.3"); return body == awsfake.Page(id(2)) })

	if _, err := f.as.SetDesiredCapacity(t.Context(), &autoscaling.SetDesiredCapacityInput{
		AutoScalingGroupName: aws.String("nodes"), DesiredCapacity: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	_, got := f.members(t, "nodes")
	if diff := cmp.Diff([]string{id(1) + " InService Healthy", id(2) + " InService Healthy", id(3) + " Pending Healthy"}, got); diff != "" {
		t.Errorf("members mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{id(3) + " pending 127.0.0.4"}, f.instances(t, &ec2.DescribeInstancesInput{InstanceIds: []string{id(3)}})); diff != "" {
		t.Errorf("pending instance mismatch (-want +got):\n%s", diff)
	}
	start := time.Now()
	f.fake.Close()
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Close took %v: it waited out a boot", took)
	}
}

// TestFailedLaunchesAndProcesses checks the three ways a launch goes
// wrong: EC2 cannot launch it (terminated, and the group launches
// another), its process never starts, or its Launcher fails (both stay in
// service and healthy, with nothing listening, as AWS would keep them).
func TestFailedLaunchesAndProcesses(t *testing.T) {
	var launched []string
	var mu sync.Mutex
	boot := func(n int) awsfake.Boot {
		switch n {
		case 2:
			return awsfake.Boot{Fail: awsfake.LaunchFails}
		case 3:
			return awsfake.Boot{Fail: awsfake.NeverStarts}
		}
		return awsfake.Boot{}
	}
	f := newFaultyFleet(t, awsfake.Config{Boot: boot}, func(next awsfake.Launcher) awsfake.Launcher {
		return func(ctx context.Context, id, ip string) (func(), error) {
			mu.Lock()
			launched = append(launched, id)
			mu.Unlock()
			if ip == "127.0.0.5" {
				return nil, errors.New("user data: no such object in the bucket")
			}
			return next(ctx, id, ip)
		}
	})
	if err := f.fake.AddGroup(awsfake.Group{Name: "nodes", MinSize: 0, MaxSize: 4, DesiredCapacity: 3}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	desired, got := f.members(t, "nodes")
	want := []string{id(1) + " InService Healthy", id(3) + " InService Healthy", id(4) + " InService Healthy"}
	if diff := cmp.Diff(want, got); desired != 3 || diff != "" {
		t.Errorf("desired %d, members mismatch (-want +got):\n%s", desired, diff)
	}
	if diff := cmp.Diff([]string{id(1) + " running 127.0.0.2", id(2) + " terminated ", id(3) + " running 127.0.0.4", id(4) + " running 127.0.0.5"},
		f.instances(t, &ec2.DescribeInstancesInput{})); diff != "" {
		t.Errorf("instances mismatch (-want +got):\n%s", diff)
	}
	for ip, serving := range map[string]bool{"127.0.0.2": true, "127.0.0.4": false, "127.0.0.5": false} {
		if _, err := f.get(ip); (err == nil) != serving {
			t.Errorf("GET %s: err = %v, want serving %v", ip, err, serving)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(launched) // the processes start concurrently
	if diff := cmp.Diff([]string{id(1), id(4)}, launched); diff != "" {
		t.Errorf("launcher calls mismatch (-want +got):\n%s", diff)
	}
}

// TestUnhealthyInstancesAreReplaced checks health replacement: an
// instance marked unhealthy, or stopped, is terminated and replaced,
// scale-in protection or not.
func TestUnhealthyInstancesAreReplaced(t *testing.T) {
	f := newFaultyFleet(t, awsfake.Config{}, nil)
	if err := f.fake.AddGroup(awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 4, DesiredCapacity: 3, NewInstancesProtected: true}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	if _, err := f.as.SetInstanceHealth(t.Context(), &autoscaling.SetInstanceHealthInput{
		InstanceId: aws.String(id(1)), HealthStatus: aws.String("Unhealthy"), ShouldRespectGracePeriod: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if err := f.fake.StopInstance(id(2)); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	desired, got := f.members(t, "nodes")
	want := []string{id(3) + " InService Healthy", id(4) + " InService Healthy", id(5) + " InService Healthy"}
	if diff := cmp.Diff(want, got); desired != 3 || diff != "" {
		t.Errorf("desired %d, members mismatch (-want +got):\n%s", desired, diff)
	}
	if _, err := f.get("127.0.0.2"); err == nil {
		t.Errorf("the unhealthy instance still serves")
	}
}

// TestZonesAndRebalance checks that launches spread over the zones, that
// terminating instances by hand leaves them unbalanced only while
// AZRebalance is suspended, and that a rebalance launches before it
// terminates and spares instances protected from scale in.
func TestZonesAndRebalance(t *testing.T) {
	f := newFaultyFleet(t, awsfake.Config{}, nil)
	g := awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 6, Zones: []string{"a", "b", "c"}}
	if err := f.fake.AddGroup(g); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	if diff := cmp.Diff(map[string]int{"us-east-1a": 2, "us-east-1b": 2, "us-east-1c": 2}, f.zones(t, "nodes")); diff != "" {
		t.Fatalf("zones mismatch (-want +got):\n%s", diff)
	}
	terminate := func(n int) {
		t.Helper()
		if _, err := f.as.TerminateInstanceInAutoScalingGroup(t.Context(), &autoscaling.TerminateInstanceInAutoScalingGroupInput{
			InstanceId: aws.String(id(n)), ShouldDecrementDesiredCapacity: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	// Instances 1 and 4 are zone a's: without them, a has none.
	f.suspend(t, "nodes", "AZRebalance")
	terminate(1)
	terminate(4)
	f.fake.Wait()
	if diff := cmp.Diff(map[string]int{"us-east-1a": 0, "us-east-1b": 2, "us-east-1c": 2}, f.zones(t, "nodes")); diff != "" {
		t.Errorf("zones while AZRebalance is suspended mismatch (-want +got):\n%s", diff)
	}
	// Resumed, the group moves one instance to zone a: it launches
	// instance 7 there, then terminates zone b's oldest, instance 2.
	if _, err := f.as.ResumeProcesses(t.Context(), &autoscaling.ResumeProcessesInput{AutoScalingGroupName: aws.String("nodes")}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	desired, got := f.members(t, "nodes")
	want := []string{id(3) + " InService Healthy", id(5) + " InService Healthy", id(6) + " InService Healthy", id(7) + " InService Healthy"}
	if diff := cmp.Diff(want, got); desired != 4 || diff != "" {
		t.Errorf("after the rebalance: desired %d, members mismatch (-want +got):\n%s", desired, diff)
	}
	if diff := cmp.Diff(map[string]int{"us-east-1a": 1, "us-east-1b": 1, "us-east-1c": 2}, f.zones(t, "nodes")); diff != "" {
		t.Errorf("zones after the rebalance mismatch (-want +got):\n%s", diff)
	}

	// With every instance protected, an unbalanced group stays so.
	if _, err := f.as.SetInstanceProtection(t.Context(), &autoscaling.SetInstanceProtectionInput{AutoScalingGroupName: aws.String("nodes"),
		InstanceIds: []string{id(3), id(5), id(6), id(7)}, ProtectedFromScaleIn: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	terminate(7)
	f.fake.Wait()
	if diff := cmp.Diff(map[string]int{"us-east-1a": 0, "us-east-1b": 1, "us-east-1c": 2}, f.zones(t, "nodes")); diff != "" {
		t.Errorf("zones with every instance protected mismatch (-want +got):\n%s", diff)
	}
	// A forced rebalance (a test's fault) takes even a protected one: the
	// oldest of zone c.
	victim, err := f.fake.Rebalance("nodes")
	if err != nil || victim != id(3) {
		t.Errorf("Rebalance = %q, %v; want %s", victim, err, id(3))
	}
	f.fake.Wait()
	if diff := cmp.Diff(map[string]int{"us-east-1a": 1, "us-east-1b": 1, "us-east-1c": 1}, f.zones(t, "nodes")); diff != "" {
		t.Errorf("zones after the forced rebalance mismatch (-want +got):\n%s", diff)
	}
}

// TestScaleInSparesProtected checks that a lower capacity terminates
// unprotected instances only, and with none left lowers the capacity and
// keeps the instances, as AWS does.
func TestScaleInSparesProtected(t *testing.T) {
	f := newFaultyFleet(t, awsfake.Config{}, nil)
	if err := f.fake.AddGroup(awsfake.Group{Name: "nodes", MinSize: 0, MaxSize: 8, DesiredCapacity: 4}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	if _, err := f.as.SetInstanceProtection(t.Context(), &autoscaling.SetInstanceProtectionInput{AutoScalingGroupName: aws.String("nodes"),
		InstanceIds: []string{id(3), id(4)}, ProtectedFromScaleIn: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.as.SetDesiredCapacity(t.Context(), &autoscaling.SetDesiredCapacityInput{
		AutoScalingGroupName: aws.String("nodes"), DesiredCapacity: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	desired, got := f.members(t, "nodes")
	if diff := cmp.Diff([]string{id(3) + " InService Healthy", id(4) + " InService Healthy"}, got); desired != 1 || diff != "" {
		t.Errorf("desired %d (want 1), members mismatch (-want +got):\n%s", desired, diff)
	}
	_, err := f.as.SetInstanceProtection(t.Context(), &autoscaling.SetInstanceProtectionInput{AutoScalingGroupName: aws.String("nodes"),
		InstanceIds: []string{id(1)}, ProtectedFromScaleIn: aws.Bool(true)})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationError" {
		t.Errorf("protecting a terminated instance: %v, want a ValidationError", err)
	}
}

// TestBusyErrors checks that BusyRate refuses that part of the requests,
// each with an error its operation really returns, without acting on it.
func TestBusyErrors(t *testing.T) {
	f := newFaultyFleet(t, awsfake.Config{BusyRate: 0.5, Seed: 7}, nil)
	if err := f.fake.AddGroup(awsfake.Group{Name: "nodes", MinSize: 0, MaxSize: 8, DesiredCapacity: 1}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	cw := cloudwatch.NewFromConfig(f.fake.AWSConfig())
	ctx := t.Context()
	codes := map[string]map[string]int{}
	const rounds = 100
	lastSet := 1
	// sdk makes a call again when the SDK failed it on its side: it
	// sometimes reads a response on a connection it closed itself
	// (aws/aws-sdk-go-v2#1825, "use of closed network connection"), which
	// says nothing of the fake.
	sdk := func(call func() error) error {
		err := call()
		for range 3 {
			var api smithy.APIError
			if err == nil || errors.As(err, &api) {
				break
			}
			t.Logf("the SDK failed a call on its side, made again: %v", err)
			err = call()
		}
		return err
	}
	for i := range rounds {
		calls := map[string]error{}
		calls["SetDesiredCapacity"] = sdk(func() error {
			_, err := f.as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{
				AutoScalingGroupName: aws.String("nodes"), DesiredCapacity: aws.Int32(int32(1 + i%2))})
			return err
		})
		if calls["SetDesiredCapacity"] == nil {
			lastSet = 1 + i%2
		}
		calls["DescribeAutoScalingGroups"] = sdk(func() error {
			_, err := f.as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
			return err
		})
		calls["DescribeInstances"] = sdk(func() error {
			_, err := f.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
			return err
		})
		calls["ListMetrics"] = sdk(func() error {
			_, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
			return err
		})
		for op, err := range calls {
			if codes[op] == nil {
				codes[op] = map[string]int{}
			}
			code := "ok"
			var api smithy.APIError
			if errors.As(err, &api) {
				code = api.ErrorCode()
			} else if err != nil {
				t.Fatalf("%s: %v, want an AWS error or none", op, err)
			}
			codes[op][code]++
		}
	}
	allowed := map[string][]string{
		"SetDesiredCapacity":        {"ok", "ScalingActivityInProgress", "ResourceContention"},
		"DescribeAutoScalingGroups": {"ok", "ResourceContention", "Throttling"},
		"DescribeInstances":         {"ok", "RequestLimitExceeded"},
		"ListMetrics":               {"ok", "Throttling"},
	}
	for op, got := range codes {
		for code, n := range got {
			if !slices.Contains(allowed[op], code) {
				t.Errorf("%s failed %d times with %s, want only %v", op, n, code, allowed[op])
			}
		}
		if got["ok"] < rounds/4 || got["ok"] > rounds*3/4 {
			t.Errorf("%s: %d of %d calls served at a busy rate of 0.5", op, got["ok"], rounds)
		}
	}
	// Refused calls change nothing: the capacity is that of the last
	// SetDesiredCapacity served.
	var desired int
	for range 100 { // Describe is refused half the time too
		out, err := f.as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
		if err == nil {
			desired = int(aws.ToInt32(out.AutoScalingGroups[0].DesiredCapacity))
			break
		}
	}
	if desired != lastSet {
		t.Errorf("desired %d, want %d, what the last SetDesiredCapacity served set", desired, lastSet)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
