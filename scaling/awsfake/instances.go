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
	launched          time.Time
	state             string // EC2 state
	lifecycle         string // Auto Scaling lifecycle state
	health            string
	stop              func() // from the Launcher, once the launch succeeded
	launching         bool   // the launcher has not returned yet
	// terminateAfterLaunch is set when a termination was asked while the
	// launcher was still running: the launch goroutine finishes it.
	terminateAfterLaunch bool
}

func (in *instance) snapshot() Instance {
	return Instance{ID: in.id, PrivateIP: in.ip, Group: in.group, State: in.state,
		LifecycleState: in.lifecycle, HealthStatus: in.health, LaunchTime: in.launched}
}

// group is one Auto Scaling group of the fake.
type group struct {
	name               string
	arn                string
	min, max, desired  int
	created            time.Time
	instances          []*instance // members not yet terminated, in launch order
	defaultAZ          string
	launchTemplateName string
}

// active returns the members that count towards the desired capacity:
// pending or in service (a terminating instance no longer counts).
func (g *group) active() []*instance {
	var out []*instance
	for _, in := range g.instances {
		if in.lifecycle == lifecyclePending || in.lifecycle == lifecycleInService {
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
		defaultAZ:          s.cfg.Region + "a",
		launchTemplateName: g.Name + "-template",
	}
	s.reconcileLocked(s.groups[g.Name])
	return nil
}

// StopInstance stops a running instance as if someone stopped it from the
// console: its server stops, its EC2 state becomes stopped, and Auto
// Scaling's EC2 health check marks it unhealthy. (The fake does not replace
// unhealthy instances; AWS would.)
func (s *Server) StopInstance(id string) error {
	s.mu.Lock()
	in, ok := s.instances[id]
	if !ok || in.state != stateRunning {
		s.mu.Unlock()
		return fmt.Errorf("awsfake: no running instance %q", id)
	}
	in.state, in.health = stateStopped, unhealthy
	stop := in.stop
	in.stop = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	return nil
}

// reconcileLocked launches or terminates instances until the group's
// active members match its desired capacity. Like AWS, it works
// asynchronously: new instances are pending until their launcher returns.
// When the capacity goes down by itself (SetDesiredCapacity), the fake
// terminates the newest instances first; AWS's default termination policy
// is more involved (zones, launch templates, billing hours), which is why
// clients that care which instance goes must terminate it themselves.
func (s *Server) reconcileLocked(g *group) {
	active := g.active()
	for i := len(active); i < g.desired && !s.closed; i++ {
		if err := s.launchLocked(g); err != nil {
			break // out of addresses: the group stays below its capacity
		}
	}
	for i := len(active) - 1; i >= g.desired; i-- {
		s.terminateLocked(active[i])
	}
}

// launchLocked creates a pending instance in g and starts its launcher.
func (s *Server) launchLocked(g *group) error {
	ip, err := s.allocateIPLocked()
	if err != nil {
		return err
	}
	s.idSeq++
	in := &instance{
		id:        fmt.Sprintf("i-%017x", 0xfa4e0000+s.idSeq),
		ip:        ip,
		group:     g.name,
		az:        g.defaultAZ,
		launched:  s.cfg.Now(),
		state:     statePending,
		lifecycle: lifecyclePending,
		health:    healthy,
		launching: true,
	}
	s.instances[in.id] = in
	s.launchOrder = append(s.launchOrder, in)
	g.instances = append(g.instances, in)
	s.work.Add(1)
	go s.runLaunch(in)
	return nil
}

// runLaunch calls the launcher outside the lock and records its outcome.
func (s *Server) runLaunch(in *instance) {
	defer s.work.Done()
	var stop func()
	var err error
	if s.cfg.Launch != nil {
		stop, err = s.cfg.Launch(s.ctx, in.id, in.ip)
	}
	s.mu.Lock()
	in.launching = false
	switch {
	case err != nil:
		s.mu.Unlock()
		s.finishTermination(in, nil)
	case in.terminateAfterLaunch:
		s.mu.Unlock()
		s.finishTermination(in, stop)
	default:
		in.state, in.lifecycle, in.stop = stateRunning, lifecycleInService, stop
		s.mu.Unlock()
	}
}

// terminateLocked starts terminating in: it leaves the group's capacity
// at once (lifecycle Terminating, EC2 shutting-down) and its server stops
// in the background.
func (s *Server) terminateLocked(in *instance) {
	in.lifecycle, in.state = lifecycleTerminating, stateShuttingDown
	if in.launching {
		in.terminateAfterLaunch = true // runLaunch stops it once it runs
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
	in.state, in.lifecycle = stateTerminated, lifecycleTerminated
	s.removeFromGroupLocked(in)
}

// removeFromGroupLocked drops a terminated instance from its group.
func (s *Server) removeFromGroupLocked(in *instance) {
	if g, ok := s.groups[in.group]; ok {
		g.instances = slices.DeleteFunc(g.instances, func(x *instance) bool { return x == in })
	}
}
