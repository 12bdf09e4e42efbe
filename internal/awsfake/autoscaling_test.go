package awsfake_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/internal/awsfake"
)

// fleet is the fake's fleet fixture with SDK clients pointed at it.
type fleet struct {
	fake *awsfake.Fleet
	as   *autoscaling.Client
	ec2  *ec2.Client
}

func newFleet(t *testing.T, launch func(awsfake.Launcher) awsfake.Launcher) *fleet {
	t.Helper()
	return newFaultyFleet(t, awsfake.Config{}, launch)
}

// newFaultyFleet is newFleet with a configuration, whose Launch it sets.
func newFaultyFleet(t *testing.T, cfg awsfake.Config, launch func(awsfake.Launcher) awsfake.Launcher) *fleet {
	t.Helper()
	fake := awsfake.NewFleet(t, cfg, launch)
	ac := fake.AWSConfig()
	return &fleet{fake: fake, as: autoscaling.NewFromConfig(ac), ec2: ec2.NewFromConfig(ac)}
}

// get fetches the page of the instance at ip, or returns the error of
// trying.
func (f *fleet) get(ip string) (string, error) { return f.fake.Get(f.fake.Addr(ip)) }

// members is what DescribeAutoScalingGroups says of a group: its desired
// capacity and its instances' "id lifecycle health".
func (f *fleet) members(t *testing.T, group string) (int, []string) {
	t.Helper()
	out, err := f.as.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.AutoScalingGroups) != 1 {
		t.Fatalf("DescribeAutoScalingGroups(%s) = %d groups, want 1", group, len(out.AutoScalingGroups))
	}
	g := out.AutoScalingGroups[0]
	var got []string
	for _, in := range g.Instances {
		got = append(got, aws.ToString(in.InstanceId)+" "+string(in.LifecycleState)+" "+aws.ToString(in.HealthStatus))
	}
	return int(aws.ToInt32(g.DesiredCapacity)), got
}

// instances is what DescribeInstances says: "id state ip" of each.
func (f *fleet) instances(t *testing.T, in *ec2.DescribeInstancesInput) []string {
	t.Helper()
	var got []string
	p := ec2.NewDescribeInstancesPaginator(f.ec2, in)
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				got = append(got, aws.ToString(in.InstanceId)+" "+string(in.State.Name)+" "+aws.ToString(in.PrivateIpAddress))
			}
		}
	}
	return got
}

// id is the fake's ID of its n-th launch.
var id = awsfake.InstanceID

func TestGroupLaunchesRealServers(t *testing.T) {
	f := newFleet(t, nil)
	if err := f.fake.AddGroup(awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 2}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	desired, got := f.members(t, "nodes")
	want := []string{id(1) + " InService Healthy", id(2) + " InService Healthy"}
	if diff := cmp.Diff(want, got); desired != 2 || diff != "" {
		t.Errorf("desired %d, members mismatch (-want +got):\n%s", desired, diff)
	}
	if diff := cmp.Diff([]string{id(1) + " running 127.0.0.2", id(2) + " running 127.0.0.3"},
		f.instances(t, &ec2.DescribeInstancesInput{})); diff != "" {
		t.Errorf("instances mismatch (-want +got):\n%s", diff)
	}
	for i, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		body, err := f.get(ip)
		if want := awsfake.Page(id(i + 1)); err != nil || body != want {
			t.Errorf("GET %s = %q, %v; want %q", ip, body, err, want)
		}
	}

	// Grow to 4, then terminate instance 2 with a decrement: 3 remain, and
	// that very server stops while the others keep serving.
	if _, err := f.as.SetDesiredCapacity(t.Context(), &autoscaling.SetDesiredCapacityInput{
		AutoScalingGroupName: aws.String("nodes"), DesiredCapacity: aws.Int32(4)}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	out, err := f.as.TerminateInstanceInAutoScalingGroup(t.Context(), &autoscaling.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String(id(2)), ShouldDecrementDesiredCapacity: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Activity.Description); got != "Terminating EC2 instance: "+id(2) {
		t.Errorf("activity description = %q", got)
	}
	f.fake.Wait()
	desired, got = f.members(t, "nodes")
	want = []string{id(1) + " InService Healthy", id(3) + " InService Healthy", id(4) + " InService Healthy"}
	if diff := cmp.Diff(want, got); desired != 3 || diff != "" {
		t.Errorf("after terminating %s: desired %d (want 3), members mismatch (-want +got):\n%s", id(2), desired, diff)
	}
	if _, err := f.get("127.0.0.3"); err == nil {
		t.Errorf("GET 127.0.0.3 succeeded after its instance terminated")
	}
	for _, ip := range []string{"127.0.0.2", "127.0.0.4", "127.0.0.5"} {
		if _, err := f.get(ip); err != nil {
			t.Errorf("GET %s: %v, want it still serving", ip, err)
		}
	}
	// Terminated instances stay listed, without their private IP.
	if diff := cmp.Diff([]string{id(2) + " terminated "}, f.instances(t, &ec2.DescribeInstancesInput{InstanceIds: []string{id(2)}})); diff != "" {
		t.Errorf("terminated instance mismatch (-want +got):\n%s", diff)
	}

	// Without a decrement the group replaces the instance, on a new address.
	if _, err := f.as.TerminateInstanceInAutoScalingGroup(t.Context(), &autoscaling.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String(id(1)), ShouldDecrementDesiredCapacity: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	desired, got = f.members(t, "nodes")
	want = []string{id(3) + " InService Healthy", id(4) + " InService Healthy", id(5) + " InService Healthy"}
	if diff := cmp.Diff(want, got); desired != 3 || diff != "" {
		t.Errorf("after replacing %s: desired %d (want 3), members mismatch (-want +got):\n%s", id(1), desired, diff)
	}
	if body, err := f.get("127.0.0.6"); err != nil || body != awsfake.Page(id(5)) {
		t.Errorf("GET 127.0.0.6 = %q, %v; want the replacement", body, err)
	}

	// Close stops every server.
	f.fake.Close()
	for _, ip := range []string{"127.0.0.4", "127.0.0.5", "127.0.0.6"} {
		if _, err := f.get(ip); err == nil {
			t.Errorf("GET %s succeeded after Close", ip)
		}
	}
}

// TestHealthAndStoppedInstances checks health without replacement
// (ReplaceUnhealthy suspended): the group keeps its unhealthy instances.
func TestHealthAndStoppedInstances(t *testing.T) {
	f := newFleet(t, nil)
	if err := f.fake.AddGroup(awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 4, DesiredCapacity: 3}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	f.suspend(t, "nodes", "ReplaceUnhealthy")
	if _, err := f.as.SetInstanceHealth(t.Context(), &autoscaling.SetInstanceHealthInput{
		InstanceId: aws.String(id(1)), HealthStatus: aws.String("Unhealthy")}); err != nil {
		t.Fatal(err)
	}
	if err := f.fake.StopInstance(id(2)); err != nil {
		t.Fatal(err)
	}
	_, got := f.members(t, "nodes")
	want := []string{id(1) + " InService Unhealthy", id(2) + " InService Unhealthy", id(3) + " InService Healthy"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members mismatch (-want +got):\n%s", diff)
	}
	running := f.instances(t, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"running"}},
	}})
	if diff := cmp.Diff([]string{id(1) + " running 127.0.0.2", id(3) + " running 127.0.0.4"}, running); diff != "" {
		t.Errorf("running instances mismatch (-want +got):\n%s", diff)
	}
	if _, err := f.get("127.0.0.3"); err == nil {
		t.Errorf("GET 127.0.0.3 succeeded after its instance stopped")
	}
}

func TestDescribeInstancesFilters(t *testing.T) {
	f := newFleet(t, nil)
	for _, g := range []awsfake.Group{{Name: "a", MaxSize: 8, DesiredCapacity: 3}, {Name: "b", MaxSize: 8, DesiredCapacity: 4}} {
		if err := f.fake.AddGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	f.fake.Wait()
	filter := func(name string, values ...string) ec2types.Filter {
		return ec2types.Filter{Name: aws.String(name), Values: values}
	}
	tests := []struct {
		name string
		in   ec2.DescribeInstancesInput
		want []string
	}{
		{"by private IP", ec2.DescribeInstancesInput{Filters: []ec2types.Filter{filter("private-ip-address", "127.0.0.4")}},
			[]string{id(3) + " running 127.0.0.4"}},
		{"by IPs with a wildcard, and ids", ec2.DescribeInstancesInput{
			InstanceIds: []string{id(1), id(5), id(6)},
			Filters:     []ec2types.Filter{filter("private-ip-address", "127.0.0.[2-6]")}},
			[]string{id(1) + " running 127.0.0.2", id(5) + " running 127.0.0.6"}},
		{"by group tag", ec2.DescribeInstancesInput{Filters: []ec2types.Filter{filter("tag:aws:autoscaling:groupName", "a")}},
			[]string{id(1) + " running 127.0.0.2", id(2) + " running 127.0.0.3", id(3) + " running 127.0.0.4"}},
		{"two filters: both must match", ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
			filter("tag:aws:autoscaling:groupName", "b"), filter("instance-id", id(1), id(4))}},
			[]string{id(4) + " running 127.0.0.5"}},
		{"paged by 5", ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)},
			[]string{id(1) + " running 127.0.0.2", id(2) + " running 127.0.0.3", id(3) + " running 127.0.0.4",
				id(4) + " running 127.0.0.5", id(5) + " running 127.0.0.6", id(6) + " running 127.0.0.7", id(7) + " running 127.0.0.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, f.instances(t, &tt.in)); diff != "" {
				t.Errorf("instances mismatch (-want +got):\n%s", diff)
			}
		})
	}
	// Paging really happened: the 7 instances took 2 calls.
	var pages int
	for _, c := range f.fake.Calls() {
		if c.Operation == "DescribeInstances" {
			pages++
		}
	}
	if pages != len(tests)+1 {
		t.Errorf("DescribeInstances calls = %d, want %d (one per case, two for the paged one)", pages, len(tests)+1)
	}
}

// TestErrors checks the AWS error codes that clients switch on.
func TestErrors(t *testing.T) {
	f := newFleet(t, nil)
	if err := f.fake.AddGroup(awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 1}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	ctx := t.Context()
	setDesired := func(group string, n int32) error {
		_, err := f.as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String(group), DesiredCapacity: aws.Int32(n)})
		return err
	}
	terminate := func(id string, decrement bool) error {
		_, err := f.as.TerminateInstanceInAutoScalingGroup(ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
			InstanceId: aws.String(id), ShouldDecrementDesiredCapacity: aws.Bool(decrement)})
		return err
	}
	describe := func(in *ec2.DescribeInstancesInput) error {
		_, err := f.ec2.DescribeInstances(ctx, in)
		return err
	}
	update := func(in *autoscaling.UpdateAutoScalingGroupInput) error {
		_, err := f.as.UpdateAutoScalingGroup(ctx, in)
		return err
	}
	tests := []struct {
		name    string
		err     error
		code    string
		message string
	}{
		{"desired above max", setDesired("nodes", 9), "ValidationError",
			"New SetDesiredCapacity value 9 is above max value 8 for the AutoScalingGroup."},
		{"desired below min", setDesired("nodes", 0), "ValidationError",
			"New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup."},
		{"unknown group", setDesired("cache", 2), "ValidationError",
			"AutoScalingGroup name not found - AutoScalingGroup 'cache' not found"},
		{"terminate unknown instance", terminate("i-00000000000000bad", true), "ValidationError",
			"Instance Id not found - No managed instance found for instance ID: i-00000000000000bad"},
		{"decrement below min", terminate(id(1), true), "ValidationError",
			"Currently, desiredCapacity (1) is at the minimum size, and the request would reduce it below the minimum size (1)."},
		{"unknown instance id", describe(&ec2.DescribeInstancesInput{InstanceIds: []string{"i-00000000000000bad"}}), "InvalidInstanceID.NotFound",
			"The instance ID 'i-00000000000000bad' does not exist"},
		{"malformed instance id", describe(&ec2.DescribeInstancesInput{InstanceIds: []string{"node-1"}}), "InvalidInstanceID.Malformed",
			`Invalid id: "node-1"`},
		{"unknown filter", describe(&ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{"x"}}}}),
			"InvalidParameterValue", "The filter 'vpc-id' is invalid (or not modelled by awsfake)"},
		{"ids with max results", describe(&ec2.DescribeInstancesInput{InstanceIds: []string{id(1)}, MaxResults: aws.Int32(5)}),
			"InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults"},
		{"dry run", describe(&ec2.DescribeInstancesInput{DryRun: aws.Bool(true)}), "DryRunOperation",
			"Request would have succeeded, but DryRun flag is set."},
		{"update min above max", update(&autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("nodes"), MinSize: aws.Int32(9)}),
			"ValidationError", "Max bound, 8, must be greater than or equal to min bound, 9"},
		{"unmodelled parameter", update(&autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("nodes"), HealthCheckType: aws.String("ELB")}),
			"ValidationError", "awsfake does not model the parameter(s) HealthCheckType of UpdateAutoScalingGroup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var api smithy.APIError
			if !errors.As(tt.err, &api) {
				t.Fatalf("error = %v, want an AWS API error", tt.err)
			}
			if api.ErrorCode() != tt.code || api.ErrorMessage() != tt.message {
				t.Errorf("error = %q: %q, want %q: %q", api.ErrorCode(), api.ErrorMessage(), tt.code, tt.message)
			}
		})
	}
	// None of the refused calls changed the group.
	desired, got := f.members(t, "nodes")
	if diff := cmp.Diff([]string{id(1) + " InService Healthy"}, got); desired != 1 || diff != "" {
		t.Errorf("desired %d (want 1), members mismatch (-want +got):\n%s", desired, diff)
	}
}

func TestUpdateAutoScalingGroup(t *testing.T) {
	f := newFleet(t, nil)
	if err := f.fake.AddGroup(awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 3}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	// Lowering the maximum below the capacity brings the capacity down.
	if _, err := f.as.UpdateAutoScalingGroup(t.Context(), &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("nodes"), MaxSize: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	out, err := f.as.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	g := out.AutoScalingGroups[0]
	got := fmt.Sprintf("min %d max %d desired %d instances %d", aws.ToInt32(g.MinSize), aws.ToInt32(g.MaxSize),
		aws.ToInt32(g.DesiredCapacity), len(g.Instances))
	if want := "min 1 max 2 desired 2 instances 2"; got != want {
		t.Errorf("group = %s, want %s", got, want)
	}
	if !strings.HasSuffix(aws.ToString(g.AutoScalingGroupARN), ":autoScalingGroupName/nodes") || g.CreatedTime == nil {
		t.Errorf("group ARN %q, created %v: want an ARN naming the group and a creation time", aws.ToString(g.AutoScalingGroupARN), g.CreatedTime)
	}
	if g.Instances[0].LifecycleState != astypes.LifecycleStateInService {
		t.Errorf("first instance lifecycle = %q, want InService", g.Instances[0].LifecycleState)
	}
}

func TestDescribeGroupsPages(t *testing.T) {
	f := newFleet(t, nil)
	for i := range 3 {
		if err := f.fake.AddGroup(awsfake.Group{Name: "g" + strconv.Itoa(i), MaxSize: 1}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(f.as, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.AutoScalingGroups {
			names = append(names, aws.ToString(g.AutoScalingGroupName))
		}
	}
	if diff := cmp.Diff([]string{"g0", "g1", "g2"}, names); diff != "" {
		t.Errorf("groups mismatch (-want +got):\n%s", diff)
	}
	// Unknown names are left out, not an error.
	out, err := f.as.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"nope"}})
	if err != nil || len(out.AutoScalingGroups) != 0 {
		t.Errorf("DescribeAutoScalingGroups(nope) = %v, %v; want no group and no error", out, err)
	}
}
