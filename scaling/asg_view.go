package scaling

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The provider's view of its group: what DescribeAutoScalingGroups said
// last, and what EC2 said of each instance once (its private IP and launch
// time, which never change).

// groupView is one read of the group.
type groupView struct {
	desired, max int
	suspended    []string
	instances    []groupInstance
}

// groupInstance is one instance as Auto Scaling lists it.
type groupInstance struct {
	id        string
	lifecycle astypes.LifecycleState
	healthy   bool
	protected bool
}

// leaving reports whether the group is terminating the instance.
func (in groupInstance) leaving() bool {
	switch in.lifecycle {
	case astypes.LifecycleStateTerminating, astypes.LifecycleStateTerminatingWait,
		astypes.LifecycleStateTerminatingProceed, astypes.LifecycleStateTerminated:
		return true
	}
	return false
}

// instanceInfo is what EC2 said of an instance.
type instanceInfo struct {
	ip       string
	launched time.Time
}

// byIP returns the group's instance at ip. An instance the group no longer
// lists, but that was its own (its address is known), is returned as
// leaving.
func (v groupView) byIP(ips map[string]instanceInfo, ip string) (groupInstance, bool) {
	for _, in := range v.instances {
		if ips[in.id].ip == ip && !in.leaving() {
			return in, true
		}
	}
	for id, info := range ips {
		if info.ip == ip {
			return groupInstance{id: id, lifecycle: astypes.LifecycleStateTerminated}, true
		}
	}
	return groupInstance{}, false
}

func (v *groupView) setLifecycle(id string, lc astypes.LifecycleState) {
	for i := range v.instances {
		if v.instances[i].id == id {
			v.instances[i].lifecycle = lc
		}
	}
}

// current returns the view, read again from AWS when it is older than the
// polling interval, or when fresh is set and it is older than a second.
func (a *ASG) current(ctx context.Context, fresh bool) (groupView, error) {
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	a.mu.Lock()
	old, read, maxAge := a.view, a.read, a.every
	a.mu.Unlock()
	if fresh {
		maxAge = min(maxAge, time.Second)
	}
	if !read.IsZero() && time.Since(read) < maxAge {
		return old, nil
	}
	v, err := a.describe(ctx)
	if err != nil {
		return groupView{}, err
	}
	if err := a.learnAddresses(ctx, v); err != nil {
		return groupView{}, err
	}
	a.mu.Lock()
	if !read.IsZero() && v.same(old) {
		a.every = min(2*a.every, 4*a.cfg.Poll) // booting instances: nothing to see for a while
	} else {
		a.every = a.cfg.Poll
	}
	a.view, a.read = v, time.Now()
	a.mu.Unlock()
	a.upkeep(ctx, v)
	return v, nil
}

// same reports whether v and w list the same capacity and instances, in
// the same states.
func (v groupView) same(w groupView) bool {
	return v.desired == w.desired && v.max == w.max && slices.Equal(v.suspended, w.suspended) && slices.Equal(v.instances, w.instances)
}

// describe reads the group, or returns ErrUnknownGroup.
func (a *ASG) describe(ctx context.Context) (groupView, error) {
	var out *autoscaling.DescribeAutoScalingGroupsOutput
	err := a.retry.do(ctx, "describe group", func(ctx context.Context) error {
		var err error
		out, err = a.as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
			AutoScalingGroupNames: []string{a.group},
		})
		return err
	})
	if err != nil {
		return groupView{}, fmt.Errorf("describe group %s: %w", a.group, err)
	}
	for _, g := range out.AutoScalingGroups {
		if aws.ToString(g.AutoScalingGroupName) != a.group {
			continue
		}
		v := groupView{desired: int(aws.ToInt32(g.DesiredCapacity)), max: int(aws.ToInt32(g.MaxSize))}
		for _, p := range g.SuspendedProcesses {
			v.suspended = append(v.suspended, aws.ToString(p.ProcessName))
		}
		for _, in := range g.Instances {
			v.instances = append(v.instances, groupInstance{
				id: aws.ToString(in.InstanceId), lifecycle: in.LifecycleState,
				healthy: aws.ToString(in.HealthStatus) == "Healthy", protected: aws.ToBool(in.ProtectedFromScaleIn),
			})
		}
		return v, nil
	}
	return groupView{}, fmt.Errorf("%w %q", ErrUnknownGroup, a.group)
}

// maxFilterValues is how many values EC2 takes in one filter.
const maxFilterValues = 200

// learnAddresses asks EC2 for the private IPs of the group's in-service
// instances it does not know yet. It filters by instance-id rather than
// listing the IDs, because EC2 answers InvalidInstanceID.NotFound for an
// ID it does not know yet (its API is eventually consistent, and the group
// may list an instance a moment before EC2 does), where a filter just
// leaves it out: such an instance is asked about again on the next read.
func (a *ASG) learnAddresses(ctx context.Context, v groupView) error {
	var ids []string
	a.mu.Lock()
	for _, in := range v.instances {
		if _, ok := a.ips[in.id]; !ok && in.lifecycle == astypes.LifecycleStateInService {
			ids = append(ids, in.id)
		}
	}
	a.mu.Unlock()
	for chunk := range slices.Chunk(ids, maxFilterValues) {
		in := &ec2.DescribeInstancesInput{
			Filters:    []ec2types.Filter{{Name: aws.String("instance-id"), Values: chunk}},
			MaxResults: aws.Int32(1000),
		}
		for p := ec2.NewDescribeInstancesPaginator(a.ec2, in); p.HasMorePages(); {
			var page *ec2.DescribeInstancesOutput
			err := a.retry.do(ctx, "describe instances", func(ctx context.Context) error {
				var err error
				page, err = p.NextPage(ctx)
				return err
			})
			if err != nil {
				return fmt.Errorf("describe instances: %w", err)
			}
			a.mu.Lock()
			for _, r := range page.Reservations {
				for _, in := range r.Instances {
					if ip := aws.ToString(in.PrivateIpAddress); ip != "" {
						a.ips[aws.ToString(in.InstanceId)] = instanceInfo{ip: ip, launched: aws.ToTime(in.LaunchTime)}
					}
				}
			}
			a.mu.Unlock()
		}
	}
	return nil
}

// upkeep keeps the group from terminating serving nodes by itself: it
// suspends AZRebalance (which terminates instances to even out zones)
// and protects in-service instances from scale in (the template's group
// protects new ones already; this covers a group made otherwise). A
// failure is logged and tried again on the next read.
func (a *ASG) upkeep(ctx context.Context, v groupView) {
	if !slices.Contains(v.suspended, "AZRebalance") {
		err := a.retry.do(ctx, "suspend AZRebalance", func(ctx context.Context) error {
			_, err := a.as.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{
				AutoScalingGroupName: aws.String(a.group), ScalingProcesses: []string{"AZRebalance"},
			})
			return err
		})
		if err != nil {
			a.log.Warn("could not suspend the group's AZRebalance process: it may terminate serving nodes", "group", a.group, "err", err)
		} else {
			a.log.Info("suspended the group's AZRebalance process, which would terminate serving nodes to even out zones", "group", a.group)
		}
	}
	var unprotected []string
	for _, in := range v.instances {
		if in.lifecycle == astypes.LifecycleStateInService && !in.protected {
			unprotected = append(unprotected, in.id)
		}
	}
	for chunk := range slices.Chunk(unprotected, 50) { // SetInstanceProtection's limit
		err := a.retry.do(ctx, "protect instances", func(ctx context.Context) error {
			_, err := a.as.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{
				AutoScalingGroupName: aws.String(a.group), InstanceIds: chunk, ProtectedFromScaleIn: aws.Bool(true),
			})
			return err
		})
		if err != nil {
			a.log.Warn("could not protect instances from scale in", "group", a.group, "instances", chunk, "err", err)
		}
	}
}
