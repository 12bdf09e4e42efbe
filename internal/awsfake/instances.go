package awsfake

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// EC2 instance states, with their codes in DescribeInstances.
const (
	statePending      = "pending"
	stateRunning      = "running"
	stateShuttingDown = "shutting-down"
	stateTerminated   = "terminated"
	stateStopped      = "stopped"
)

var stateCodes = map[string]int{
	statePending: 0, stateRunning: 16, stateShuttingDown: 32, stateTerminated: 48, stateStopped: 80,
}

// Auto Scaling lifecycle states and health statuses.
const (
	lifecyclePending     = "Pending"
	lifecycleInService   = "InService"
	lifecycleTerminating = "Terminating"
	lifecycleTerminated  = "Terminated"
	healthy              = "Healthy"
	unhealthy            = "Unhealthy"
)

// instance is one EC2 instance of the fake; every field is guarded by
// Server.mu.
type instance struct {
	id, ip, group, az string
	launch            int // the fake's launch count, from 1: Config.Boot's argument
	boot              Boot
	launched          time.Time
	state             string // EC2 state
	lifecycle         string // Auto Scaling lifecycle state
	health            string
	protected         bool        // from scale in
	stop              func()      // from the Launcher, once the process started
	timer             *time.Timer // the next boot stage, while one is scheduled
	starting          bool        // the launcher has not returned yet
	// terminateAfterStart is set when a termination was asked while the
	// launcher was still running: the start goroutine finishes it.
	terminateAfterStart bool
}

func (in *instance) snapshot() Instance {
	return Instance{ID: in.id, PrivateIP: in.ip, Group: in.group, Zone: in.az, State: in.state,
		LifecycleState: in.lifecycle, HealthStatus: in.health, Protected: in.protected, LaunchTime: in.launched}
}

// active reports whether in counts towards its group's capacity: pending
// or in service (a terminating instance no longer counts).
func (in *instance) active() bool {
	return in.lifecycle == lifecyclePending || in.lifecycle == lifecycleInService
}

// group is one Auto Scaling group of the fake.
type group struct {
	name               string
	arn                string
	min, max, desired  int
	created            time.Time
	instances          []*instance // members not yet terminated, in launch order
	zones              []string
	launchTemplateName string
	newProtected       bool            // NewInstancesProtectedFromScaleIn
	suspended          map[string]bool // suspended processes
	rebalance          *rebalance      // the AZ rebalance under way, if any
}

// active returns the members that count towards the desired capacity.
func (g *group) active() []*instance {
	var out []*instance
	for _, in := range g.instances {
		if in.active() {
			out = append(out, in)
		}
	}
	return out
}

// AddGroup creates an Auto Scaling group and launches its desired
// capacity. The test usually calls Wait afterwards, so that the instances
// are in service.
func (s *Server) AddGroup(g Group) error {
	if g.Name == "" {
		return errors.New("awsfake: group without a name")
	}
	if g.MinSize < 0 || g.MinSize > g.MaxSize || g.DesiredCapacity < g.MinSize || g.DesiredCapacity > g.MaxSize {
		return fmt.Errorf("awsfake: group %q: want 0 <= min %d <= desired %d <= max %d",
			g.Name, g.MinSize, g.DesiredCapacity, g.MaxSize)
	}
	zones := []string{s.cfg.Region + "a"}
	if len(g.Zones) > 0 {
		zones = nil
		for _, z := range g.Zones {
			zones = append(zones, s.cfg.Region+z)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[g.Name]; ok {
		return fmt.Errorf("awsfake: group %q exists already", g.Name)
	}
	s.groups[g.Name] = &group{
		name: g.Name,
		arn: fmt.Sprintf("arn:aws:autoscaling:%s:123456789012:autoScalingGroup:00000000-0000-4000-8000-%012x:autoScalingGroupName/%s",
			s.cfg.Region, len(s.groups)+1, g.Name),
		min: g.MinSize, max: g.MaxSize, desired: g.DesiredCapacity,
		created:            s.cfg.Now(),
		zones:              zones,
		launchTemplateName: g.Name + "-template",
		newProtected:       g.NewInstancesProtected,
		suspended:          map[string]bool{},
	}
	s.reconcileLocked(s.groups[g.Name])
	return nil
}

// StopInstance stops a running instance as if someone stopped it from the
// console: its server stops, its EC2 state becomes stopped, and Auto
// Scaling's EC2 health check marks it unhealthy (unless the HealthCheck
// process is suspended), which has the group replace it (unless
// ReplaceUnhealthy is).
func (s *Server) StopInstance(id string) error {
	s.mu.Lock()
	in, ok := s.instances[id]
	if !ok || in.state != stateRunning {
		s.mu.Unlock()
		return fmt.Errorf("awsfake: no running instance %q", id)
	}
	in.state = stateStopped
	stop := in.stop
	in.stop = nil
	if g := s.groups[in.group]; g != nil && !g.suspended[processHealthCheck] {
		s.markUnhealthyLocked(g, in)
	}
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	return nil
}

// reconcileLocked launches or terminates instances until the group's
// active members match its desired capacity (one more while an AZ
// rebalance has launched its instance and not yet terminated the other).
// Like AWS, it works asynchronously: new instances are pending for their
// Boot's Pending time. When the capacity goes down by itself
// (SetDesiredCapacity), the fake terminates from the zone with the most
// instances the newest one not protected from scale in; AWS's default
// termination policy is more involved (launch templates, billing hours),
// which is why clients that care which instance goes must terminate it
// themselves. With every candidate protected, the capacity goes down and
// the instances stay, as in AWS.
func (s *Server) reconcileLocked(g *group) {
	active := g.active()
	want := g.desired
	if g.rebalance != nil && g.rebalance.added != nil && g.rebalance.added.active() {
		want++
	}
	if !g.suspended[processLaunch] {
		for i := len(active); i < want && !s.closed; i++ {
			if _, err := s.launchLocked(g, s.launchZoneLocked(g)); err != nil {
				break // out of addresses: the group stays below its capacity
			}
		}
	}
	if g.suspended[processTerminate] {
		return
	}
	for excess := len(active) - want; excess > 0; excess-- {
		victim := s.scaleInVictimLocked(g)
		if victim == nil {
			return
		}
		s.terminateLocked(victim)
	}
}

// launchLocked creates a pending instance of g in zone and starts its
// boot.
func (s *Server) launchLocked(g *group, zone string) (*instance, error) {
	ip, err := s.allocateIPLocked()
	if err != nil {
		return nil, err
	}
	s.idSeq++
	in := &instance{
		id:        InstanceID(int(s.idSeq)),
		ip:        ip,
		group:     g.name,
		az:        zone,
		launch:    int(s.idSeq),
		launched:  s.cfg.Now(),
		state:     statePending,
		lifecycle: lifecyclePending,
		health:    healthy,
	}
	if s.cfg.Boot != nil {
		in.boot = s.cfg.Boot(in.launch)
	}
	s.instances[in.id] = in
	s.launchOrder = append(s.launchOrder, in)
	g.instances = append(g.instances, in)
	s.scheduleLocked(in, in.boot.Pending, s.afterPending)
	return in, nil
}

// terminateLocked starts terminating in: it leaves the group's capacity
// at once (lifecycle Terminating, EC2 shutting-down) and its server stops
// in the background.
func (s *Server) terminateLocked(in *instance) {
	in.lifecycle, in.state = lifecycleTerminating, stateShuttingDown
	if g := s.groups[in.group]; g != nil && g.rebalance != nil && g.rebalance.added == in {
		g.rebalance.finishLocked(g, errors.New("awsfake: the rebalance's new instance was terminated"))
	}
	switch {
	case in.timer != nil:
		if !in.timer.Stop() {
			return // the stage is running: it sees Terminating and finishes the termination
		}
		in.timer = nil
		s.work.Done() // for the stage that will not run
	case in.starting:
		in.terminateAfterStart = true // startProcess stops it once it runs
		return
	}
	stop := in.stop
	in.stop = nil
	s.work.Add(1)
	go func() {
		defer s.work.Done()
		s.finishTermination(in, stop)
	}()
}

// finishTermination stops in's server (if it has one), outside the lock,
// then records the instance as terminated and out of its group.
func (s *Server) finishTermination(in *instance, stop func()) {
	if stop != nil {
		stop()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.terminatedLocked(in)
}

// terminatedLocked records in as terminated and drops it from its group,
// whose zones may be out of balance now.
func (s *Server) terminatedLocked(in *instance) {
	in.state, in.lifecycle = stateTerminated, lifecycleTerminated
	g, ok := s.groups[in.group]
	if !ok {
		return
	}
	g.instances = slices.DeleteFunc(g.instances, func(x *instance) bool { return x == in })
	s.maybeRebalanceLocked(g)
}
