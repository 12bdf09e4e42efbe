package scaling

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ASG is the pool provider "asg:<group>": the pool's nodes are the EC2
// instances of an Auto Scaling group, each serving a node on the same port
// of its private IP. It has the method set of pool.Provider (Members,
// SetSize, Remove) without importing package cache; main passes it to the
// pool.
//
// It never shrinks the group by lowering its capacity and letting Auto
// Scaling choose a victim: the pool drains a node it chose, then Remove
// terminates that very instance, decrementing the capacity in the same
// call.
type ASG struct {
	as    *autoscaling.Client
	ec2   *ec2.Client
	group string
	port  int
}

// ASGConfig configures NewASG.
type ASGConfig struct {
	// AutoScaling and EC2 are the clients, from autoscaling.NewFromConfig
	// and ec2.NewFromConfig. Required.
	AutoScaling *autoscaling.Client
	EC2         *ec2.Client
	// Group is the Auto Scaling group's name. Required.
	Group string
	// Port is the port every node listens on. Default DefaultNodePort.
	Port int
}

// DefaultNodePort is the port `picpool node` listens on by default.
const DefaultNodePort = 5100

// Errors of the ASG provider, matched with errors.Is. They come wrapped in
// errors that say which call failed ("scaling: asg: remove …: …"), so
// their own text has no package prefix.
var (
	// ErrUnknownGroup: the Auto Scaling group does not exist (in this
	// account and region).
	ErrUnknownGroup = errors.New("no such Auto Scaling group")
	// ErrNotMember: the address given to Remove is no instance of the group.
	ErrNotMember = errors.New("not an instance of the Auto Scaling group")
	// ErrShrink: SetSize was asked for fewer nodes than the group has; the
	// pool shrinks by draining a node and calling Remove on it.
	ErrShrink = errors.New("the group shrinks only by removing a chosen node")
)

// provider is pool.Provider's method set, declared again here so that the
// compiler checks ASG against it without this package importing cache.
type provider interface {
	Members(ctx context.Context) ([]string, error)
	SetSize(ctx context.Context, n int) error
	Remove(ctx context.Context, member string) error
}

var _ provider = (*ASG)(nil)

// NewASG returns the provider for cfg.
func NewASG(cfg ASGConfig) (*ASG, error) {
	switch {
	case cfg.AutoScaling == nil || cfg.EC2 == nil:
		return nil, errors.New("scaling: asg: the Auto Scaling and EC2 clients are required")
	case cfg.Group == "":
		return nil, errors.New("scaling: asg: no group name")
	case cfg.Port < 0 || cfg.Port > 65535:
		return nil, fmt.Errorf("scaling: asg: invalid port %d", cfg.Port)
	}
	port := cfg.Port
	if port == 0 {
		port = DefaultNodePort
	}
	return &ASG{as: cfg.AutoScaling, ec2: cfg.EC2, group: cfg.Group, port: port}, nil
}

// Members returns "privateIP:port" of each instance of the group that Auto
// Scaling has InService and Healthy and EC2 has running, oldest launch
// first (ties by instance ID), so that a new node comes last.
func (a *ASG) Members(ctx context.Context) ([]string, error) {
	g, err := a.describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("scaling: asg: members: %w", err)
	}
	var ids []string
	for _, in := range g.Instances {
		if in.LifecycleState == astypes.LifecycleStateInService && aws.ToString(in.HealthStatus) == "Healthy" {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	instances, err := a.instances(ctx, ids, ec2types.Filter{Name: aws.String("instance-state-name"), Values: []string{"running"}})
	if err != nil {
		return nil, fmt.Errorf("scaling: asg: members: %w", err)
	}
	slices.SortFunc(instances, func(x, y ec2types.Instance) int {
		return cmp.Or(aws.ToTime(x.LaunchTime).Compare(aws.ToTime(y.LaunchTime)),
			cmp.Compare(aws.ToString(x.InstanceId), aws.ToString(y.InstanceId)))
	})
	members := []string{}
	for _, in := range instances {
		if ip := aws.ToString(in.PrivateIpAddress); ip != "" {
			members = append(members, net.JoinHostPort(ip, strconv.Itoa(a.port)))
		}
	}
	return members, nil
}

// SetSize raises the group's desired capacity to n; n equal to the
// current capacity does nothing, and a smaller n is refused with
// ErrShrink. New instances appear in Members once they are in service and
// running.
func (a *ASG) SetSize(ctx context.Context, n int) error {
	g, err := a.describe(ctx)
	if err != nil {
		return fmt.Errorf("scaling: asg: set size %d: %w", n, err)
	}
	desired := int(aws.ToInt32(g.DesiredCapacity))
	switch {
	case n < desired:
		return fmt.Errorf("scaling: asg: set size %d, below the group's %d: %w", n, desired, ErrShrink)
	case n == desired:
		return nil
	case n > int(aws.ToInt32(g.MaxSize)):
		return fmt.Errorf("scaling: asg: set size %d: above the group's maximum size %d", n, aws.ToInt32(g.MaxSize))
	}
	_, err = a.as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{
		AutoScalingGroupName: aws.String(a.group),
		DesiredCapacity:      aws.Int32(int32(n)),
		HonorCooldown:        aws.Bool(false), // the autoscaler keeps its own cooldown
	})
	if err != nil {
		return fmt.Errorf("scaling: asg: set size %d: %w", n, err)
	}
	return nil
}

// Remove terminates the group's instance whose private IP is member's host,
// decrementing the desired capacity in the same call, so that Auto Scaling
// neither replaces it nor picks another instance. member must be one the
// group has (its port the nodes' port); otherwise the error matches
// ErrNotMember.
func (a *ASG) Remove(ctx context.Context, member string) error {
	id, err := a.instanceOf(ctx, member)
	if err != nil {
		return fmt.Errorf("scaling: asg: remove %s: %w", member, err)
	}
	_, err = a.as.TerminateInstanceInAutoScalingGroup(ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
		InstanceId:                     aws.String(id),
		ShouldDecrementDesiredCapacity: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("scaling: asg: remove %s (%s): %w", member, id, err)
	}
	return nil
}

// instanceOf finds the ID of the group's instance serving member.
func (a *ASG) instanceOf(ctx context.Context, member string) (string, error) {
	host, portText, err := net.SplitHostPort(member)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotMember, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || portText != strconv.Itoa(a.port) {
		return "", fmt.Errorf("%w: its members are privateIP:%d", ErrNotMember, a.port)
	}
	g, err := a.describe(ctx)
	if err != nil {
		return "", err
	}
	lifecycle := map[string]astypes.LifecycleState{}
	var ids []string
	for _, in := range g.Instances {
		lifecycle[aws.ToString(in.InstanceId)] = in.LifecycleState
		ids = append(ids, aws.ToString(in.InstanceId))
	}
	found, err := a.instances(ctx, ids, ec2types.Filter{Name: aws.String("private-ip-address"), Values: []string{ip.String()}})
	if err != nil {
		return "", err
	}
	for _, in := range found {
		switch in.State.Name {
		case ec2types.InstanceStateNameShuttingDown, ec2types.InstanceStateNameTerminated:
			continue
		}
		id := aws.ToString(in.InstanceId)
		if lc := lifecycle[id]; lc == astypes.LifecycleStateTerminating || lc == astypes.LifecycleStateTerminatingWait ||
			lc == astypes.LifecycleStateTerminatingProceed || lc == astypes.LifecycleStateTerminated {
			return "", fmt.Errorf("%w any more: %s is terminating", ErrNotMember, id)
		}
		return id, nil
	}
	return "", fmt.Errorf("%w: none has the private IP %s", ErrNotMember, ip)
}

// describe returns the group, or ErrUnknownGroup.
func (a *ASG) describe(ctx context.Context) (astypes.AutoScalingGroup, error) {
	out, err := a.as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{a.group},
	})
	if err != nil {
		return astypes.AutoScalingGroup{}, fmt.Errorf("describe group %s: %w", a.group, err)
	}
	for _, g := range out.AutoScalingGroups {
		if aws.ToString(g.AutoScalingGroupName) == a.group {
			return g, nil
		}
	}
	return astypes.AutoScalingGroup{}, fmt.Errorf("%w %q", ErrUnknownGroup, a.group)
}

// maxFilterValues is how many values EC2 takes in one filter.
const maxFilterValues = 200

// instances returns the EC2 instances among ids that match filter. It
// filters by instance-id rather than listing the IDs, because EC2 answers
// InvalidInstanceID.NotFound for an ID it does not know yet (its API is
// eventually consistent, and the group may list an instance a moment
// before EC2 does), where a filter just leaves it out.
func (a *ASG) instances(ctx context.Context, ids []string, filter ec2types.Filter) ([]ec2types.Instance, error) {
	var out []ec2types.Instance
	for chunk := range slices.Chunk(ids, maxFilterValues) {
		p := ec2.NewDescribeInstancesPaginator(a.ec2, &ec2.DescribeInstancesInput{
			Filters:    []ec2types.Filter{{Name: aws.String("instance-id"), Values: chunk}, filter},
			MaxResults: aws.Int32(1000),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe instances: %w", err)
			}
			for _, r := range page.Reservations {
				out = append(out, r.Instances...)
			}
		}
	}
	return out, nil
}
