package awsfake

import (
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
)

// Auto Scaling operations, in the awsQuery protocol.

func (s *Server) autoScalingOps() map[string]queryOp {
	return map[string]queryOp{
		"DescribeAutoScalingGroups": {
			[]string{"AutoScalingGroupNames.member.", "MaxRecords", "NextToken"}, s.describeAutoScalingGroups},
		"SetDesiredCapacity": {
			[]string{"AutoScalingGroupName", "DesiredCapacity", "HonorCooldown"}, s.setDesiredCapacity},
		"TerminateInstanceInAutoScalingGroup": {
			[]string{"InstanceId", "ShouldDecrementDesiredCapacity"}, s.terminateInstanceInAutoScalingGroup},
		"UpdateAutoScalingGroup": {
			[]string{"AutoScalingGroupName", "MinSize", "MaxSize", "DesiredCapacity", "NewInstancesProtectedFromScaleIn"}, s.updateAutoScalingGroup},
		"SetInstanceHealth": {
			[]string{"InstanceId", "HealthStatus", "ShouldRespectGracePeriod"}, s.setInstanceHealth},
		"SetInstanceProtection": {
			[]string{"AutoScalingGroupName", "InstanceIds.member.", "ProtectedFromScaleIn"}, s.setInstanceProtection},
		"SuspendProcesses": {
			[]string{"AutoScalingGroupName", "ScalingProcesses.member."}, s.suspendProcesses},
		"ResumeProcesses": {
			[]string{"AutoScalingGroupName", "ScalingProcesses.member."}, s.resumeProcesses},
	}
}

type xmlMembers struct {
	Member []string `xml:"member"`
}

type xmlLaunchTemplate struct {
	LaunchTemplateName string
	Version            string
}

type xmlASGInstance struct {
	InstanceID           string `xml:"InstanceId"`
	InstanceType         string
	AvailabilityZone     string
	LifecycleState       string
	HealthStatus         string
	LaunchTemplate       xmlLaunchTemplate
	ProtectedFromScaleIn bool
}

type xmlSuspendedProcess struct {
	ProcessName      string
	SuspensionReason string
}

type xmlAutoScalingGroup struct {
	AutoScalingGroupName   string
	AutoScalingGroupARN    string
	LaunchTemplate         xmlLaunchTemplate
	MinSize                int
	MaxSize                int
	DesiredCapacity        int
	DefaultCooldown        int
	AvailabilityZones      xmlMembers
	HealthCheckType        string
	HealthCheckGracePeriod int
	Instances              struct {
		Member []xmlASGInstance `xml:"member"`
	}
	CreatedTime        string
	SuspendedProcesses struct {
		Member []xmlSuspendedProcess `xml:"member"`
	}
	TerminationPolicies              xmlMembers
	NewInstancesProtectedFromScaleIn bool
}

type describeAutoScalingGroupsResult struct {
	XMLName           xml.Name `xml:"DescribeAutoScalingGroupsResult"`
	AutoScalingGroups struct {
		Member []xmlAutoScalingGroup `xml:"member"`
	}
	NextToken string `xml:",omitempty"`
}

// describeAutoScalingGroups lists the named groups (all of them when none
// is named); like AWS, unknown names are left out, not an error. Filters
// are not modelled.
func (s *Server) describeAutoScalingGroups(q *queryRequest, _ string) (any, *apiError) {
	names := q.list("AutoScalingGroupNames.member")
	maxRecords, ok, err := q.integer("MaxRecords")
	if err != nil {
		return nil, err
	}
	if !ok {
		maxRecords = 50
	}
	if maxRecords < 1 || maxRecords > 100 {
		return nil, errorf("ValidationError", "1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100", maxRecords)
	}
	offset := 0
	if tok, ok := q.get("NextToken"); ok {
		if offset, ok = parsePageToken(tok); !ok {
			return nil, errorf("InvalidNextToken", "The token '%s' is invalid.", tok)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var groups []*group
	for _, g := range s.groups {
		if len(names) == 0 || slices.Contains(names, g.name) {
			groups = append(groups, g)
		}
	}
	slices.SortFunc(groups, func(a, b *group) int { return strings.Compare(a.name, b.name) })
	var res describeAutoScalingGroupsResult
	for i := offset; i < len(groups) && i < offset+maxRecords; i++ {
		res.AutoScalingGroups.Member = append(res.AutoScalingGroups.Member, groups[i].toXML())
	}
	if offset+maxRecords < len(groups) {
		res.NextToken = pageToken(offset + maxRecords)
	}
	return res, nil
}

func (g *group) toXML() xmlAutoScalingGroup {
	lt := xmlLaunchTemplate{LaunchTemplateName: g.launchTemplateName, Version: "$Latest"}
	x := xmlAutoScalingGroup{
		AutoScalingGroupName:             g.name,
		AutoScalingGroupARN:              g.arn,
		LaunchTemplate:                   lt,
		MinSize:                          g.min,
		MaxSize:                          g.max,
		DesiredCapacity:                  g.desired,
		DefaultCooldown:                  300,
		AvailabilityZones:                xmlMembers{Member: g.zones},
		HealthCheckType:                  "EC2",
		HealthCheckGracePeriod:           300,
		CreatedTime:                      isoTime(g.created),
		TerminationPolicies:              xmlMembers{Member: []string{"Default"}},
		NewInstancesProtectedFromScaleIn: g.newProtected,
	}
	for _, in := range g.instances {
		x.Instances.Member = append(x.Instances.Member, xmlASGInstance{
			InstanceID: in.id, InstanceType: instanceType, AvailabilityZone: in.az,
			LifecycleState: in.lifecycle, HealthStatus: in.health, LaunchTemplate: lt, ProtectedFromScaleIn: in.protected,
		})
	}
	for _, p := range processNames {
		if g.suspended[p] {
			x.SuspendedProcesses.Member = append(x.SuspendedProcesses.Member,
				xmlSuspendedProcess{ProcessName: p, SuspensionReason: "User suspended"})
		}
	}
	return x
}

// groupLocked returns the named group, or the error AWS returns for an
// unknown one.
func (s *Server) groupLocked(name string) (*group, *apiError) {
	g, ok := s.groups[name]
	if !ok {
		return nil, errorf("ValidationError", "AutoScalingGroup name not found - AutoScalingGroup '%s' not found", name)
	}
	return g, nil
}

// setDesiredCapacity changes the capacity within [min, max]; the fake
// starts launching or terminating at once (HonorCooldown is accepted and
// has no effect: the fake has no cooldowns).
func (s *Server) setDesiredCapacity(q *queryRequest, _ string) (any, *apiError) {
	name, err := q.required("AutoScalingGroupName")
	if err != nil {
		return nil, err
	}
	desired, err := q.requiredInteger("DesiredCapacity", "desiredCapacity")
	if err != nil {
		return nil, err
	}
	if _, _, err := q.boolean("HonorCooldown"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupLocked(name)
	if err != nil {
		return nil, err
	}
	switch {
	case desired > g.max:
		return nil, errorf("ValidationError", "New SetDesiredCapacity value %d is above max value %d for the AutoScalingGroup.", desired, g.max)
	case desired < g.min:
		return nil, errorf("ValidationError", "New SetDesiredCapacity value %d is below min value %d for the AutoScalingGroup.", desired, g.min)
	}
	g.desired = desired
	s.reconcileLocked(g)
	return nil, nil
}

type xmlActivity struct {
	ActivityID           string `xml:"ActivityId"`
	AutoScalingGroupName string
	Description          string
	Cause                string
	StartTime            string
	StatusCode           string
	Progress             int
	Details              string
}

type terminateInstanceResult struct {
	XMLName  xml.Name `xml:"TerminateInstanceInAutoScalingGroupResult"`
	Activity xmlActivity
}

// terminateInstanceInAutoScalingGroup terminates that very instance. With
// ShouldDecrementDesiredCapacity the capacity goes down by one (refused at
// the group's minimum); without it, the group launches a replacement.
func (s *Server) terminateInstanceInAutoScalingGroup(q *queryRequest, _ string) (any, *apiError) {
	id, err := q.required("InstanceId")
	if err != nil {
		return nil, err
	}
	decrement, err := q.requiredBoolean("ShouldDecrementDesiredCapacity", "shouldDecrementDesiredCapacity")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, found := s.instances[id]
	var g *group
	if found {
		g = s.groups[in.group]
	}
	if !found || g == nil || !slices.Contains(g.instances, in) {
		return nil, errorf("ValidationError", "Instance Id not found - No managed instance found for instance ID: %s", id)
	}
	if in.lifecycle == lifecycleTerminating {
		return nil, errorf("ValidationError", "The instance %s is already terminating.", id)
	}
	before := g.desired
	if decrement {
		if g.desired-1 < g.min {
			return nil, errorf("ValidationError",
				"Currently, desiredCapacity (%d) is at the minimum size, and the request would reduce it below the minimum size (%d).", g.desired, g.min)
		}
		g.desired--
	}
	s.terminateLocked(in)
	s.reconcileLocked(g) // launches a replacement when the capacity stayed
	s.activitySeq++
	now := s.cfg.Now()
	cause := fmt.Sprintf("At %s instance %s was taken out of service in response to a user request", isoTime(now), id)
	if decrement {
		cause += fmt.Sprintf(", shrinking the capacity from %d to %d.", before, g.desired)
	} else {
		cause += "."
	}
	return terminateInstanceResult{Activity: xmlActivity{
		ActivityID:           fmt.Sprintf("00000000-0000-4000-a000-%012x", s.activitySeq),
		AutoScalingGroupName: g.name,
		Description:          "Terminating EC2 instance: " + id,
		Cause:                cause,
		StartTime:            isoTime(now),
		StatusCode:           "InProgress",
		Details:              "{}",
	}}, nil
}

// updateAutoScalingGroup changes the sizes of a group and whether new
// instances are protected from scale in (nothing else is modelled).
// Without a new desired capacity, the current one is brought within the
// new bounds, as AWS does.
func (s *Server) updateAutoScalingGroup(q *queryRequest, _ string) (any, *apiError) {
	name, err := q.required("AutoScalingGroupName")
	if err != nil {
		return nil, err
	}
	minSize, minOK, err := q.integer("MinSize")
	if err != nil {
		return nil, err
	}
	maxSize, maxOK, err := q.integer("MaxSize")
	if err != nil {
		return nil, err
	}
	desired, desiredOK, err := q.integer("DesiredCapacity")
	if err != nil {
		return nil, err
	}
	protect, protectOK, err := q.boolean("NewInstancesProtectedFromScaleIn")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupLocked(name)
	if err != nil {
		return nil, err
	}
	if !minOK {
		minSize = g.min
	}
	if !maxOK {
		maxSize = g.max
	}
	if minSize < 0 || minSize > maxSize {
		return nil, errorf("ValidationError", "Max bound, %d, must be greater than or equal to min bound, %d", maxSize, minSize)
	}
	if !desiredOK {
		desired = min(max(g.desired, minSize), maxSize)
	}
	if desired < minSize || desired > maxSize {
		return nil, errorf("ValidationError", "Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, minSize, maxSize)
	}
	g.min, g.max, g.desired = minSize, maxSize, desired
	if protectOK {
		g.newProtected = protect
	}
	s.reconcileLocked(g)
	return nil, nil
}

// setInstanceHealth marks an instance healthy or unhealthy; the group
// replaces an unhealthy one (see markUnhealthyLocked). The grace period is
// not modelled: ShouldRespectGracePeriod is accepted and has no effect.
func (s *Server) setInstanceHealth(q *queryRequest, _ string) (any, *apiError) {
	id, err := q.required("InstanceId")
	if err != nil {
		return nil, err
	}
	status, err := q.required("HealthStatus")
	if err != nil {
		return nil, err
	}
	if _, _, err := q.boolean("ShouldRespectGracePeriod"); err != nil {
		return nil, err
	}
	if status != healthy && status != unhealthy {
		return nil, errorf("ValidationError", "Valid instance health states are: [Healthy, Unhealthy].")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	var g *group
	if ok {
		g = s.groups[in.group]
	}
	if !ok || in.lifecycle == lifecycleTerminated || g == nil {
		return nil, errorf("ValidationError", "Instance Id not found - No managed instance found for instance ID: %s", id)
	}
	if status == unhealthy && in.health == healthy {
		s.markUnhealthyLocked(g, in)
	}
	in.health = status
	return nil, nil
}
