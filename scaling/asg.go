package scaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// ASG is the pool provider "asg:<group>": the pool's nodes are the EC2
// instances of an Auto Scaling group, each serving a node on the same port
// of its private IP. It has the method set of pool.Provider (Members,
// SetSize, Remove) without importing package cache; main passes it to the
// pool.
//
// It copes with AWS as it is:
//
//   - an instance counts as a member once its node answers /healthz, not
//     when Auto Scaling has it InService (its user data is still
//     installing and starting the node then); an instance whose node never
//     answers (StartTimeout), or stopped answering (DeadAfter), is marked
//     unhealthy (SetInstanceHealth), so that the group replaces it;
//   - it reads the group at most every Poll, however often Members is
//     called, and less often (up to every 4 × Poll) while the group does
//     not change, as while instances boot; it asks EC2 only for the
//     addresses of instances it has not seen yet (an instance's private IP
//     never changes);
//   - calls AWS refuses for now (ScalingActivityInProgress,
//     ResourceContention, throttling, server errors) are made again with
//     backoff;
//   - it protects the group's instances from scale in and suspends the
//     group's AZRebalance process, so that the group does not terminate a
//     serving node on its own to lower its capacity or even out its zones
//     (health replacement, which it cannot and should not stop, and a
//     rebalance someone resumes are for the pool's reconciliation to
//     repair).
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
	cfg   ASGConfig
	retry backoff
	log   *slog.Logger

	refreshMu sync.Mutex // one read of the group at a time; others wait for it

	mu     sync.Mutex
	view   groupView
	read   time.Time               // when view was read; zero: read it on next use
	every  time.Duration           // the time from one read to the next: Poll, more while nothing changes
	ips    map[string]instanceInfo // by instance ID: what EC2 said of it
	probes map[string]*probe       // by instance ID
}

// ASGConfig configures NewASG. Zero values take the defaults given with
// each field.
type ASGConfig struct {
	// AutoScaling and EC2 are the clients, from autoscaling.NewFromConfig
	// and ec2.NewFromConfig. Required.
	AutoScaling *autoscaling.Client
	EC2         *ec2.Client
	// Group is the Auto Scaling group's name. Required.
	Group string
	// Port is the port every node listens on. Default DefaultNodePort.
	Port int
	// Poll is the least time between two reads of the group from AWS;
	// calls in between answer from the last read. Each read that finds
	// the group as it was doubles the time to the next, up to 4 × Poll;
	// a change, or a change the provider makes, brings it back to Poll.
	// Default 5 s.
	Poll time.Duration
	// ProbeEvery is the least time between two /healthz probes of one
	// node. Default 1 s.
	ProbeEvery time.Duration
	// StartTimeout is how long an instance may be in service before its
	// node answers /healthz; after it, the instance is marked unhealthy.
	// Default 5 min: a boot's user data takes one to three.
	StartTimeout time.Duration
	// DeadAfter is how long a node that answered may fail /healthz before
	// its instance is marked unhealthy. Default 1 min.
	DeadAfter time.Duration
	// Backoff is the first wait before a refused AWS call is made again;
	// it doubles up to 20 × Backoff, over at most 8 calls. Default 1 s.
	Backoff time.Duration
	// HTTP probes the nodes. Default: a client with a 2 s timeout.
	HTTP *http.Client
	// Log receives what the provider does to the group. Default: discard.
	Log *slog.Logger
}

// DefaultNodePort is the port `picpool node` listens on by default.
const DefaultNodePort = 5100

// Defaults of ASGConfig.
const (
	DefaultPoll         = 5 * time.Second
	DefaultProbeEvery   = time.Second
	DefaultStartTimeout = 5 * time.Minute
	DefaultDeadAfter    = time.Minute
)

// Errors of the ASG provider, matched with errors.Is. They come wrapped in
// errors that say which call failed ("scaling: asg: remove …: …"), so
// their own text has no package prefix.
var (
	// ErrUnknownGroup: the Auto Scaling group does not exist (in this
	// account and region).
	ErrUnknownGroup = errors.New("no such Auto Scaling group")
	// ErrNotMember: the address given to Remove is no instance of the group.
	ErrNotMember = errors.New("not an instance of the Auto Scaling group")
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
	cfg.Port = cmpOr(cfg.Port, DefaultNodePort)
	cfg.Poll = cmpOr(cfg.Poll, DefaultPoll)
	cfg.ProbeEvery = cmpOr(cfg.ProbeEvery, DefaultProbeEvery)
	cfg.StartTimeout = cmpOr(cfg.StartTimeout, DefaultStartTimeout)
	cfg.DeadAfter = cmpOr(cfg.DeadAfter, DefaultDeadAfter)
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 2 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &ASG{
		as: cfg.AutoScaling, ec2: cfg.EC2, group: cfg.Group, port: cfg.Port, cfg: cfg,
		retry: backoff{first: cfg.Backoff}.withDefaults(cfg.Log), log: cfg.Log,
		ips: map[string]instanceInfo{}, probes: map[string]*probe{}, every: cfg.Poll,
	}, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// SetSize makes sure the group has n instances: it raises the desired
// capacity to n when it is lower, and does nothing otherwise (a group
// larger than the pool has instances the pool's reconciliation either
// adopts or removes). New instances appear in Members once their nodes
// answer.
func (a *ASG) SetSize(ctx context.Context, n int) error {
	v, err := a.current(ctx, true)
	if err != nil {
		return fmt.Errorf("scaling: asg: set size %d: %w", n, err)
	}
	switch {
	case n <= v.desired:
		return nil
	case n > v.max:
		return fmt.Errorf("scaling: asg: set size %d: above the group's maximum size %d", n, v.max)
	}
	err = a.retry.do(ctx, "set desired capacity", func(ctx context.Context) error {
		_, err := a.as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{
			AutoScalingGroupName: aws.String(a.group),
			DesiredCapacity:      aws.Int32(int32(n)),
			HonorCooldown:        aws.Bool(false), // the autoscaler keeps its own cooldown
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("scaling: asg: set size %d: %w", n, err)
	}
	a.log.Info("Auto Scaling group capacity raised", "group", a.group, "from", v.desired, "to", n)
	a.mu.Lock()
	a.view.desired, a.read, a.every = n, time.Time{}, a.cfg.Poll // its new instances show on the next reads
	a.mu.Unlock()
	return nil
}

// Remove terminates the group's instance whose private IP is member's host,
// decrementing the desired capacity in the same call, so that Auto Scaling
// neither replaces it nor picks another instance. A member the group is
// terminating already (a health replacement, a rebalance) is gone as asked:
// Remove returns nil. An address that is no instance of the group (or
// not at the nodes' port) is refused with ErrNotMember.
func (a *ASG) Remove(ctx context.Context, member string) error {
	id, gone, err := a.instanceOf(ctx, member)
	if err != nil {
		return fmt.Errorf("scaling: asg: remove %s: %w", member, err)
	}
	if gone {
		a.log.Info("node already leaving its group", "member", member, "instance", id)
		return nil
	}
	err = a.retry.do(ctx, "terminate instance", func(ctx context.Context) error {
		_, err := a.as.TerminateInstanceInAutoScalingGroup(ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
			InstanceId:                     aws.String(id),
			ShouldDecrementDesiredCapacity: aws.Bool(true),
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("scaling: asg: remove %s (%s): %w", member, id, err)
	}
	a.log.Info("node's instance terminated", "member", member, "instance", id)
	a.mu.Lock()
	a.view.setLifecycle(id, astypes.LifecycleStateTerminating)
	a.view.desired--
	a.every = a.cfg.Poll
	a.mu.Unlock()
	return nil
}

// instanceOf finds the ID of the group's instance serving member, and
// whether it is leaving the group already.
func (a *ASG) instanceOf(ctx context.Context, member string) (string, bool, error) {
	host, portText, err := net.SplitHostPort(member)
	if err != nil {
		return "", false, fmt.Errorf("%w: %v", ErrNotMember, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || portText != strconv.Itoa(a.port) {
		return "", false, fmt.Errorf("%w: its members are privateIP:%d", ErrNotMember, a.port)
	}
	for _, fresh := range []bool{false, true} { // the last read, then a new one
		v, err := a.current(ctx, fresh)
		if err != nil {
			return "", false, err
		}
		a.mu.Lock()
		in, ok := v.byIP(a.ips, ip.String())
		a.mu.Unlock()
		if ok {
			return in.id, in.leaving(), nil
		}
	}
	return "", false, fmt.Errorf("%w: none has the private IP %s", ErrNotMember, ip)
}
