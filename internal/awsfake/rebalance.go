package awsfake

import (
	"errors"
	"fmt"
	"slices"
)

// Availability zones: a group launches into its zone with the fewest
// instances, and its AZRebalance process evens the zones out when they
// differ by more than one (after TerminateInstanceInAutoScalingGroup,
// say): it launches an instance in the zone with the fewest, and once that
// one is in service terminates one in the zone with the most, going over
// the desired capacity by one meanwhile, as AWS does.

var errLaunchFailed = errors.New("awsfake: the rebalance's new instance failed to launch")

// rebalance is one AZRebalance activity of a group.
type rebalance struct {
	victim   *instance  // terminated once added is in service
	added    *instance  // launched in the zone with the fewest instances
	done     chan error // receives the outcome once
	finished bool
}

// finishLocked ends the activity with err (nil: the victim is
// terminating).
func (r *rebalance) finishLocked(g *group, err error) {
	if g.rebalance == r {
		g.rebalance = nil
	}
	if !r.finished {
		r.finished = true
		r.done <- err
	}
}

// inServiceLocked terminates the victim now that the new instance serves.
func (r *rebalance) inServiceLocked(s *Server, g *group) {
	if r.victim.active() {
		s.terminateLocked(r.victim)
	}
	r.finishLocked(g, nil)
	s.reconcileLocked(g)
}

// zoneCounts returns g's active instances per zone, in zone order.
func zoneCounts(g *group) []int {
	counts := make([]int, len(g.zones))
	for _, in := range g.active() {
		if i := slices.Index(g.zones, in.az); i >= 0 {
			counts[i]++
		}
	}
	return counts
}

// launchZoneLocked returns the zone a new instance of g goes to: the one
// with the fewest active instances (the first of them).
func (s *Server) launchZoneLocked(g *group) string {
	counts := zoneCounts(g)
	return g.zones[slices.Index(counts, slices.Min(counts))]
}

// scaleInVictimLocked returns the instance a lower capacity terminates:
// of those not protected from scale in (and not a rebalance's new one),
// the newest in the zone with the most active instances; nil if none.
func (s *Server) scaleInVictimLocked(g *group) *instance {
	counts := zoneCounts(g)
	var victim *instance
	best := -1
	for _, in := range g.active() {
		if in.protected || g.rebalance != nil && g.rebalance.added == in {
			continue
		}
		if c := counts[slices.Index(g.zones, in.az)]; c >= best { // launch order: a later one is newer
			victim, best = in, c
		}
	}
	return victim
}

// oldestInZone returns the oldest in-service instance of g in zone, of
// those protected only if withProtected.
func oldestInZone(g *group, zone string, withProtected bool) *instance {
	for _, in := range g.instances {
		if in.az == zone && in.lifecycle == lifecycleInService && (withProtected || !in.protected) {
			return in
		}
	}
	return nil
}

// maybeRebalanceLocked starts an AZRebalance activity when g's zones
// differ by more than one and the process is not suspended. Its victim is
// the oldest instance of the zone with the most that is not protected
// from scale in (the fake's reading of AWS's termination policies, which
// rebalancing follows); with none, nothing happens.
func (s *Server) maybeRebalanceLocked(g *group) {
	if g.suspended[processAZRebalance] || g.rebalance != nil || len(g.zones) < 2 || s.closed {
		return
	}
	counts := zoneCounts(g)
	hi, lo := slices.Index(counts, slices.Max(counts)), slices.Index(counts, slices.Min(counts))
	if counts[hi]-counts[lo] <= 1 {
		return
	}
	if victim := oldestInZone(g, g.zones[hi], false); victim != nil {
		s.startRebalanceLocked(g, victim, g.zones[lo])
	}
}

// startRebalanceLocked launches the activity's new instance in zone.
func (s *Server) startRebalanceLocked(g *group, victim *instance, zone string) (*rebalance, error) {
	r := &rebalance{victim: victim, done: make(chan error, 1)}
	g.rebalance = r
	added, err := s.launchLocked(g, zone)
	if err != nil {
		g.rebalance = nil
		return nil, err
	}
	r.added = added
	return r, nil
}

// Rebalance runs one AZRebalance activity on the group now: it launches an
// instance in the zone with the fewest, waits until it is in service, then
// terminates the oldest in-service instance of the zone with the most, and
// returns that instance's ID. Unlike the activities the group starts by
// itself, it runs whatever the group's suspended processes and its
// instances' scale-in protection: it stands for a rebalance the client
// could not prevent (an operator who resumed the process for a while, a
// zone that came back), so that tests can have one kill a serving
// instance at a moment they choose.
func (s *Server) Rebalance(name string) (string, error) {
	s.mu.Lock()
	g, ok := s.groups[name]
	if !ok {
		s.mu.Unlock()
		return "", fmt.Errorf("awsfake: no group %q", name)
	}
	counts := zoneCounts(g)
	hi, lo := slices.Index(counts, slices.Max(counts)), slices.Index(counts, slices.Min(counts))
	victim := oldestInZone(g, g.zones[hi], true)
	var r *rebalance
	var err error
	switch {
	case g.rebalance != nil:
		err = fmt.Errorf("awsfake: group %q is rebalancing already", name)
	case counts[hi] == counts[lo] || victim == nil:
		err = fmt.Errorf("awsfake: group %q has its zones balanced (%v): no instance to move", name, counts)
	default:
		r, err = s.startRebalanceLocked(g, victim, g.zones[lo])
	}
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	select {
	case err = <-r.done:
	case <-s.ctx.Done():
		err = errors.New("awsfake: closed during the rebalance")
	}
	if err != nil {
		return "", err
	}
	return victim.id, nil
}
