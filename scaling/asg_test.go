package scaling

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/internal/awsfake"
)

// asgFixture is an ASG provider over the AWS fake's fleet, whose
// instances each serve a tiny real HTTP server (awsfake.Page) on their
// 127.0.0.x address, at the port the provider expects.
type asgFixture struct {
	fleet *awsfake.Fleet
	fake  *awsfake.Server
	asg   *ASG
	as    *autoscaling.Client
	port  int
}

func newASGFixture(t *testing.T, g awsfake.Group, wrap func(awsfake.Launcher) awsfake.Launcher) *asgFixture {
	t.Helper()
	return newASGFixtureWith(t, awsfake.Config{}, ASGConfig{Poll: time.Nanosecond, ProbeEvery: time.Nanosecond}, g, wrap)
}

// newASGFixtureWith is newASGFixture with the fake's and the provider's
// configurations (the fixture sets their clients, launcher, group and
// port).
func newASGFixtureWith(t *testing.T, fc awsfake.Config, ac ASGConfig, g awsfake.Group, wrap func(awsfake.Launcher) awsfake.Launcher) *asgFixture {
	t.Helper()
	fleet := awsfake.NewFleet(t, fc, wrap)
	if err := fleet.AddGroup(g); err != nil {
		t.Fatal(err)
	}
	fleet.Wait()
	cfg := fleet.AWSConfig()
	as := autoscaling.NewFromConfig(cfg)
	ac.AutoScaling, ac.EC2, ac.Group, ac.Port = as, ec2.NewFromConfig(cfg), g.Name, fleet.Port
	if ac.Backoff == 0 {
		ac.Backoff = time.Millisecond
	}
	asg, err := NewASG(ac)
	if err != nil {
		t.Fatal(err)
	}
	return &asgFixture{fleet: fleet, fake: fleet.Server, asg: asg, as: as, port: fleet.Port}
}

// addr is the member address of 127.0.0.<octet>.
func (f *asgFixture) addr(octet int) string { return f.fleet.Addr("127.0.0." + strconv.Itoa(octet)) }

// serving returns what each member's server answers, or "down".
func (f *asgFixture) serving(members ...string) []string {
	var got []string
	for _, m := range members {
		if page, err := f.fleet.Get(m); err != nil {
			got = append(got, m+" down")
		} else {
			got = append(got, m+" "+page)
		}
	}
	return got
}

func (f *asgFixture) members(t *testing.T) []string {
	t.Helper()
	got, err := f.asg.Members(t.Context())
	if err != nil {
		t.Fatalf("Members: %v", err)
	}
	return got
}

func (f *asgFixture) desired(t *testing.T) int {
	t.Helper()
	out, err := f.as.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"nodes"}})
	if err != nil {
		t.Fatal(err)
	}
	return int(aws.ToInt32(out.AutoScalingGroups[0].DesiredCapacity))
}

// instanceID is the fake's ID of its n-th instance.
var instanceID = awsfake.InstanceID

func TestASGGrowAndRemove(t *testing.T) {
	f := newASGFixture(t, awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 1}, nil)
	if diff := cmp.Diff([]string{f.addr(2)}, f.members(t)); diff != "" {
		t.Fatalf("Members mismatch (-want +got):\n%s", diff)
	}

	if err := f.asg.SetSize(t.Context(), 4); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	four := []string{f.addr(2), f.addr(3), f.addr(4), f.addr(5)}
	if diff := cmp.Diff(four, f.members(t)); diff != "" {
		t.Fatalf("Members after SetSize(4) mismatch (-want +got):\n%s", diff)
	}
	want := []string{
		f.addr(2) + " " + awsfake.Page(instanceID(1)), f.addr(3) + " " + awsfake.Page(instanceID(2)),
		f.addr(4) + " " + awsfake.Page(instanceID(3)), f.addr(5) + " " + awsfake.Page(instanceID(4)),
	}
	if diff := cmp.Diff(want, f.serving(four...)); diff != "" {
		t.Errorf("servers mismatch (-want +got):\n%s", diff)
	}

	// Remove the third node: that very server stops, the others keep
	// serving, and the capacity went down by one in the same call.
	if err := f.asg.Remove(t.Context(), f.addr(4)); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	if diff := cmp.Diff([]string{f.addr(2), f.addr(3), f.addr(5)}, f.members(t)); diff != "" {
		t.Errorf("Members after Remove mismatch (-want +got):\n%s", diff)
	}
	want = []string{
		f.addr(2) + " " + awsfake.Page(instanceID(1)), f.addr(3) + " " + awsfake.Page(instanceID(2)),
		f.addr(4) + " down", f.addr(5) + " " + awsfake.Page(instanceID(4)),
	}
	if diff := cmp.Diff(want, f.serving(four...)); diff != "" {
		t.Errorf("servers after Remove mismatch (-want +got):\n%s", diff)
	}
	if got := f.desired(t); got != 3 {
		t.Errorf("desired capacity = %d, want 3", got)
	}
	var ops []string
	for _, c := range f.fake.Calls() {
		if c.Operation == "SetDesiredCapacity" || c.Operation == "TerminateInstanceInAutoScalingGroup" {
			ops = append(ops, c.Operation)
		}
	}
	// One SetDesiredCapacity to grow; the shrink never lowered the capacity blindly.
	if diff := cmp.Diff([]string{"SetDesiredCapacity", "TerminateInstanceInAutoScalingGroup"}, ops); diff != "" {
		t.Errorf("Auto Scaling writes mismatch (-want +got):\n%s", diff)
	}
}

func TestASGSetSize(t *testing.T) {
	f := newASGFixture(t, awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 3}, nil)
	tests := []struct {
		n       int
		wantErr error  // matched with errors.Is, when set
		msg     string // the whole error text, when there is one
		desired int
	}{
		{n: 3, desired: 3}, // no change, no call
		{n: 2, desired: 3}, // the group has enough: no change, no call (the pool removes what it does not use)
		{n: 9, msg: "scaling: asg: set size 9: above the group's maximum size 8", desired: 3},
		{n: 8, desired: 8},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.n), func(t *testing.T) {
			err := f.asg.SetSize(t.Context(), tt.n)
			if got := errString(err); got != tt.msg {
				t.Errorf("SetSize(%d) error = %q, want %q", tt.n, got, tt.msg)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("SetSize(%d) error = %v, want it to match %v", tt.n, err, tt.wantErr)
			}
			if got := f.desired(t); got != tt.desired {
				t.Errorf("desired capacity = %d, want %d", got, tt.desired)
			}
		})
	}
	var writes int
	for _, c := range f.fake.Calls() {
		if c.Operation == "SetDesiredCapacity" {
			writes++
		}
	}
	if writes != 1 {
		t.Errorf("SetDesiredCapacity calls = %d, want 1 (only for growing to 8)", writes)
	}
}

// TestASGMembersSkipUnready checks Members leaves out instances that are
// pending, unhealthy, stopped or terminating, and those in service whose
// node does not answer yet.
func TestASGMembersSkipUnready(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	hold := func(next awsfake.Launcher) awsfake.Launcher {
		return func(ctx context.Context, id, ip string) (func(), error) {
			if ip == "127.0.0.7" {
				<-release
			}
			return next(ctx, id, ip)
		}
	}
	f := newASGFixture(t, awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 5}, hold)
	defer once.Do(func() { close(release) })
	// The group would replace the unhealthy instances; here they stay.
	if _, err := f.as.SuspendProcesses(t.Context(), &autoscaling.SuspendProcessesInput{
		AutoScalingGroupName: aws.String("nodes"), ScalingProcesses: []string{"ReplaceUnhealthy"}}); err != nil {
		t.Fatal(err)
	}

	if _, err := f.as.SetInstanceHealth(t.Context(), &autoscaling.SetInstanceHealthInput{
		InstanceId: aws.String(instanceID(1)), HealthStatus: aws.String("Unhealthy")}); err != nil {
		t.Fatal(err)
	}
	if err := f.fake.StopInstance(instanceID(2)); err != nil {
		t.Fatal(err)
	}
	if err := f.asg.Remove(t.Context(), f.addr(4)); err != nil { // terminating, maybe not yet terminated
		t.Fatal(err)
	}
	if err := f.asg.SetSize(t.Context(), 5); err != nil { // one more, its process held at 127.0.0.7
		t.Fatal(err)
	}
	waitInService(t, f.fake, instanceID(6))
	// 127.0.0.7 is in service, but its node does not answer yet.
	if diff := cmp.Diff([]string{f.addr(5), f.addr(6)}, f.members(t)); diff != "" {
		t.Errorf("Members mismatch (-want +got):\n%s", diff)
	}
	once.Do(func() { close(release) })
	f.fake.Wait()
	if diff := cmp.Diff([]string{f.addr(5), f.addr(6), f.addr(7)}, f.members(t)); diff != "" {
		t.Errorf("Members once its node started mismatch (-want +got):\n%s", diff)
	}
}

func TestASGRemoveErrors(t *testing.T) {
	f := newASGFixture(t, awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 2}, nil)
	other := awsfake.Group{Name: "other", MinSize: 0, MaxSize: 2, DesiredCapacity: 1} // instance 3, at 127.0.0.4
	if err := f.fake.AddGroup(other); err != nil {
		t.Fatal(err)
	}
	f.fake.Wait()
	if err := f.asg.Remove(t.Context(), f.addr(3)); err != nil { // leaves 127.0.0.2 alone, at the minimum
		t.Fatal(err)
	}
	// An instance that is leaving already is gone as asked.
	if err := f.asg.Remove(t.Context(), f.addr(3)); err != nil {
		t.Errorf("Remove of a terminating instance: %v, want nil", err)
	}
	tests := []struct {
		name, member string
		notMember    bool   // the error matches ErrNotMember
		code         string // else: the AWS error code it wraps
	}{
		{"unknown address", f.addr(99), true, ""},
		{"another group's instance", f.addr(4), true, ""},
		{"wrong port", net.JoinHostPort("127.0.0.2", strconv.Itoa(f.port+1)), true, ""},
		{"host name", net.JoinHostPort("localhost", strconv.Itoa(f.port)), true, ""},
		{"no port", "127.0.0.2", true, ""},
		{"below the group's minimum", f.addr(2), false, "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.asg.Remove(t.Context(), tt.member)
			if err == nil {
				t.Fatalf("Remove(%s) = nil, want an error", tt.member)
			}
			if errors.Is(err, ErrNotMember) != tt.notMember {
				t.Errorf("Remove(%s) = %v: errors.Is(ErrNotMember) = %v, want %v", tt.member, err, !tt.notMember, tt.notMember)
			}
			var api smithy.APIError
			if tt.code != "" && (!errors.As(err, &api) || api.ErrorCode() != tt.code) {
				t.Errorf("Remove(%s) = %v, want the AWS error %s", tt.member, err, tt.code)
			}
		})
	}
	f.fake.Wait()
	if diff := cmp.Diff([]string{f.addr(2)}, f.members(t)); diff != "" {
		t.Errorf("Members mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{f.addr(4) + " " + awsfake.Page(instanceID(3))}, f.serving(f.addr(4))); diff != "" {
		t.Errorf("the other group's instance mismatch (-want +got):\n%s", diff)
	}
}

func TestASGUnknownGroup(t *testing.T) {
	f := newASGFixture(t, awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 1}, nil)
	cfg := f.fake.AWSConfig()
	asg, err := NewASG(ASGConfig{AutoScaling: autoscaling.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg), Group: "cache"})
	if err != nil {
		t.Fatal(err)
	}
	_, membersErr := asg.Members(t.Context())
	for _, tt := range []struct {
		call string
		err  error
		want string
	}{
		{"Members", membersErr, `scaling: asg: members: no such Auto Scaling group "cache"`},
		{"SetSize", asg.SetSize(t.Context(), 2), `scaling: asg: set size 2: no such Auto Scaling group "cache"`},
		{"Remove", asg.Remove(t.Context(), "127.0.0.2:5100"), `scaling: asg: remove 127.0.0.2:5100: no such Auto Scaling group "cache"`},
	} {
		if !errors.Is(tt.err, ErrUnknownGroup) || tt.err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q matching ErrUnknownGroup", tt.call, tt.err, tt.want)
		}
	}
}

func TestNewASGChecksConfig(t *testing.T) {
	as, e := autoscaling.New(autoscaling.Options{}), ec2.New(ec2.Options{})
	tests := []struct {
		name string
		cfg  ASGConfig
		want string
	}{
		{"ok", ASGConfig{AutoScaling: as, EC2: e, Group: "g"}, ""},
		{"no clients", ASGConfig{Group: "g"}, "scaling: asg: the Auto Scaling and EC2 clients are required"},
		{"no group", ASGConfig{AutoScaling: as, EC2: e}, "scaling: asg: no group name"},
		{"bad port", ASGConfig{AutoScaling: as, EC2: e, Group: "g", Port: 70000}, "scaling: asg: invalid port 70000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewASG(tt.cfg)
			if got := errString(err); got != tt.want {
				t.Fatalf("NewASG() error = %q, want %q", got, tt.want)
			}
			if err == nil && a.port != DefaultNodePort {
				t.Errorf("port = %d, want the default %d", a.port, DefaultNodePort)
			}
		})
	}
}

// waitInService waits until the fake has the instance in service.
func waitInService(t *testing.T, fake *awsfake.Server, id string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, in := range fake.Instances() {
			if in.ID == id && in.LifecycleState == "InService" {
				return
			}
		}
	}
	t.Fatalf("instance %s not in service after 10 s", id)
}
