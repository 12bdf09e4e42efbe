package awsfake

import (
	"encoding/xml"
	"slices"
	"strings"
	"time"
)

// Auto Scaling's processes, which SuspendProcesses and ResumeProcesses
// stop and start. The fake models Launch and Terminate (reaching the
// desired capacity), HealthCheck (a stopped instance turns unhealthy),
// ReplaceUnhealthy (an unhealthy instance is terminated and replaced) and
// AZRebalance; it accepts the others and lists them as suspended, with no
// effect.
const (
	processLaunch           = "Launch"
	processTerminate        = "Terminate"
	processHealthCheck      = "HealthCheck"
	processReplaceUnhealthy = "ReplaceUnhealthy"
	processAZRebalance      = "AZRebalance"
)

var processNames = []string{"Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification", "AZRebalance",
	"HealthCheck", "InstanceRefresh", "ReplaceUnhealthy", "ScheduledActions"}

// scalingProcesses reads ScalingProcesses.member.N: every process when
// none is named, as in AWS.
func scalingProcesses(q *queryRequest) ([]string, *apiError) {
	names := q.list("ScalingProcesses.member")
	if len(names) == 0 {
		return processNames, nil
	}
	for _, n := range names {
		if !slices.Contains(processNames, n) {
			return nil, errorf("ValidationError", "Process names must be in the list: %s.", strings.Join(processNames, ", "))
		}
	}
	return names, nil
}

// suspendProcesses suspends the named processes of a group.
func (s *Server) suspendProcesses(q *queryRequest, _ string) (any, *apiError) {
	return s.setProcesses(q, true)
}

// resumeProcesses resumes them; the group catches up at once on what they
// would have done (replacing unhealthy instances, reaching its capacity,
// rebalancing its zones).
func (s *Server) resumeProcesses(q *queryRequest, _ string) (any, *apiError) {
	return s.setProcesses(q, false)
}

func (s *Server) setProcesses(q *queryRequest, suspend bool) (any, *apiError) {
	name, err := q.required("AutoScalingGroupName")
	if err != nil {
		return nil, err
	}
	names, err := scalingProcesses(q)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupLocked(name)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if suspend {
			g.suspended[n] = true
		} else {
			delete(g.suspended, n)
		}
	}
	if !suspend {
		for _, in := range g.active() {
			if in.health == unhealthy {
				s.replaceLaterLocked(g, in)
			}
		}
		s.reconcileLocked(g)
		s.maybeRebalanceLocked(g)
	}
	return nil, nil
}

// setInstanceProtection protects instances of a group from scale in, or
// lifts the protection (at most 50 instances a call, as in AWS).
func (s *Server) setInstanceProtection(q *queryRequest, _ string) (any, *apiError) {
	name, err := q.required("AutoScalingGroupName")
	if err != nil {
		return nil, err
	}
	protect, err := q.requiredBoolean("ProtectedFromScaleIn", "protectedFromScaleIn")
	if err != nil {
		return nil, err
	}
	ids := q.list("InstanceIds.member")
	switch {
	case len(ids) == 0:
		return nil, nullError("instanceIds")
	case len(ids) > 50:
		return nil, errorf("LimitExceeded", "The number of instance IDs (%d) exceeds the limit of 50 per call.", len(ids))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupLocked(name)
	if err != nil {
		return nil, err
	}
	var found []*instance
	for _, id := range ids {
		in, ok := s.instances[id]
		if !ok || !slices.Contains(g.instances, in) {
			return nil, errorf("ValidationError", "The instance %s is not part of Auto Scaling group %s.", id, name)
		}
		found = append(found, in)
	}
	for _, in := range found {
		in.protected = protect
	}
	return setInstanceProtectionResult{}, nil
}

type setInstanceProtectionResult struct {
	XMLName xml.Name `xml:"SetInstanceProtectionResult"`
}

// markUnhealthyLocked marks in unhealthy; unless ReplaceUnhealthy is
// suspended, the group terminates and replaces it after ReplaceAfter.
// Scale-in protection does not keep an unhealthy instance, as in AWS.
func (s *Server) markUnhealthyLocked(g *group, in *instance) {
	in.health = unhealthy
	s.replaceLaterLocked(g, in)
}

func (s *Server) replaceLaterLocked(g *group, in *instance) {
	if g.suspended[processReplaceUnhealthy] || s.closed {
		return
	}
	s.work.Add(1)
	time.AfterFunc(s.cfg.ReplaceAfter, func() {
		defer s.work.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		if in.active() && in.health == unhealthy && !g.suspended[processReplaceUnhealthy] && !s.closed {
			s.terminateLocked(in)
			s.reconcileLocked(g)
		}
	})
}
