package awsfake

import "time"

// Boot is how one instance's launch goes, in the stages of a real one:
// EC2 and Auto Scaling show it pending for Pending; then it is running
// and InService, and its user data runs: Start later the process it
// starts (the Launcher) serves. Auto Scaling does not wait for that
// process (with EC2 health checks and no lifecycle hook it cannot know of
// it), so neither does the fake: a client sees an instance in service that
// does not answer yet.
type Boot struct {
	Pending time.Duration // from launch until running and InService
	Start   time.Duration // from InService until the Launcher is called
	Fail    BootFailure
}

// BootFailure is how a launch fails, if it does.
type BootFailure int

const (
	// BootOK: the launch succeeds and the process starts.
	BootOK BootFailure = iota
	// LaunchFails: EC2 cannot start the instance (no capacity in its zone,
	// say): after Pending it is terminated without ever being in service,
	// and the group launches another.
	LaunchFails
	// NeverStarts: the instance is running, InService and Healthy (EC2's
	// checks see nothing wrong) but its process never starts: the
	// Launcher is not called. Until someone marks it unhealthy, the group
	// keeps it.
	NeverStarts
)

// scheduleLocked runs stage on in after d, counted as work in flight.
// stage takes the lock itself; it is called at once for d <= 0, but
// still after the caller has released the lock.
func (s *Server) scheduleLocked(in *instance, d time.Duration, stage func(*instance)) {
	s.work.Add(1)
	in.timer = time.AfterFunc(d, func() {
		defer s.work.Done()
		stage(in)
	})
}

// afterPending ends the pending stage: the instance fails to launch, or
// is running and in service, its process starting after Boot.Start.
func (s *Server) afterPending(in *instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in.timer = nil
	g := s.groups[in.group]
	switch {
	case in.lifecycle != lifecyclePending: // terminated while pending
		s.terminatedLocked(in)
		return
	case in.boot.Fail == LaunchFails:
		if g != nil && g.rebalance != nil && g.rebalance.added == in {
			g.rebalance.finishLocked(g, errLaunchFailed)
		}
		s.terminatedLocked(in)
		if g != nil {
			s.reconcileLocked(g) // another launch in its place
		}
		return
	}
	in.state, in.lifecycle = stateRunning, lifecycleInService
	if g != nil {
		in.protected = g.newProtected // scale-in protection starts at InService
		if g.rebalance != nil && g.rebalance.added == in {
			g.rebalance.inServiceLocked(s, g)
		}
	}
	if in.boot.Fail != NeverStarts {
		s.scheduleLocked(in, in.boot.Start, s.startProcess)
	}
}

// startProcess calls the Launcher, outside the lock, and records the
// process's stop function. A Launcher's error leaves the instance in
// service with nothing listening, as a failed user data script does.
func (s *Server) startProcess(in *instance) {
	s.mu.Lock()
	in.timer = nil
	if in.lifecycle != lifecycleInService || in.state != stateRunning || s.cfg.Launch == nil {
		if in.lifecycle == lifecycleTerminating {
			s.terminatedLocked(in)
		}
		s.mu.Unlock()
		return
	}
	in.starting = true
	s.mu.Unlock()

	stop, err := s.cfg.Launch(s.ctx, in.id, in.ip)
	if err != nil {
		stop = nil
	}

	s.mu.Lock()
	in.starting = false
	switch {
	case in.terminateAfterStart:
		s.mu.Unlock()
		s.finishTermination(in, stop)
	case in.state != stateRunning: // stopped meanwhile
		s.mu.Unlock()
		if stop != nil {
			stop()
		}
	default:
		in.stop = stop
		s.mu.Unlock()
	}
}
