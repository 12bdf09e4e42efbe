package awsfake

import (
	"encoding/xml"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// EC2 operations, in the ec2Query protocol.

// instanceType is the type every instance of the fake has.
const instanceType = "t3.micro"

func (s *Server) ec2Ops() map[string]queryOp {
	return map[string]queryOp{
		"DescribeInstances": {
			[]string{"InstanceId.", "Filter.", "MaxResults", "NextToken", "DryRun"}, s.describeInstances},
	}
}

type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type xmlInstance struct {
	InstanceID    string `xml:"instanceId"`
	ImageID       string `xml:"imageId"`
	InstanceState struct {
		Code int    `xml:"code"`
		Name string `xml:"name"`
	} `xml:"instanceState"`
	PrivateDNSName   string `xml:"privateDnsName"`
	PrivateIPAddress string `xml:"privateIpAddress,omitempty"`
	InstanceType     string `xml:"instanceType"`
	LaunchTime       string `xml:"launchTime"`
	Placement        struct {
		AvailabilityZone string `xml:"availabilityZone"`
	} `xml:"placement"`
	TagSet []xmlTag `xml:"tagSet>item"`
}

type xmlReservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []xmlInstance `xml:"instancesSet>item"`
}

type describeInstancesResponse struct {
	XMLName      xml.Name         `xml:"DescribeInstancesResponse"`
	XMLNS        string           `xml:"xmlns,attr"`
	RequestID    string           `xml:"requestId"`
	Reservations []xmlReservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

var instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

// instanceFilter is one Filter.N of DescribeInstances: an instance matches
// if its field matches any of the values (which may hold * and ?
// wildcards, as in EC2).
type instanceFilter struct {
	name   string
	values []string
	field  func(*instance) []string
}

// filterFields are the filters the fake models.
var filterFields = map[string]func(*instance) []string{
	"instance-id":         func(in *instance) []string { return []string{in.id} },
	"instance-state-name": func(in *instance) []string { return []string{in.state} },
	"private-ip-address": func(in *instance) []string {
		if in.state == stateTerminated {
			return nil
		}
		return []string{in.ip}
	},
	"tag:aws:autoscaling:groupName": func(in *instance) []string { return []string{in.group} },
}

func (f instanceFilter) match(in *instance) bool {
	for _, have := range f.field(in) {
		for _, want := range f.values {
			if ok, _ := path.Match(want, have); ok {
				return true
			}
		}
	}
	return false
}

// describeInstances lists instances by ID and/or filters, one reservation
// per instance. Terminated instances stay listed, without a private IP, as
// in EC2 (which lists them for about an hour).
func (s *Server) describeInstances(q *queryRequest, reqID string) (any, *apiError) {
	if dry, _, err := q.boolean("DryRun"); err != nil {
		return nil, err
	} else if dry {
		return nil, &apiError{status: 412, code: "DryRunOperation", message: "Request would have succeeded, but DryRun flag is set."}
	}
	ids := q.list("InstanceId")
	for _, id := range ids {
		if !instanceIDPattern.MatchString(id) {
			return nil, errorf("InvalidInstanceID.Malformed", "Invalid id: %q", id)
		}
	}
	var filters []instanceFilter
	for i := 1; ; i++ {
		prefix := "Filter." + strconv.Itoa(i)
		name, ok := q.get(prefix + ".Name")
		if !ok {
			break
		}
		field, ok := filterFields[name]
		if !ok {
			return nil, errorf("InvalidParameterValue", "The filter '%s' is invalid (or not modelled by awsfake)", name)
		}
		filters = append(filters, instanceFilter{name: name, values: q.list(prefix + ".Value"), field: field})
	}
	maxResults, paged, err := q.integer("MaxResults")
	if err != nil {
		return nil, err
	}
	if paged && len(ids) > 0 {
		return nil, errorf("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	if paged && (maxResults < 5 || maxResults > 1000) {
		return nil, errorf("InvalidParameterValue", "Value ( %d ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", maxResults)
	}
	offset := 0
	if tok, ok := q.get("NextToken"); ok {
		if offset, ok = parsePageToken(tok); !ok {
			return nil, errorf("InvalidParameterValue", "Invalid value '%s' for nextToken", tok)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var missing []string
	for _, id := range ids {
		if _, ok := s.instances[id]; !ok {
			missing = append(missing, id)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		return nil, errorf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
	default:
		return nil, errorf("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
	}
	var found []*instance
	for _, in := range s.launchOrder {
		if len(ids) > 0 && !slices.Contains(ids, in.id) {
			continue
		}
		if matchAll(filters, in) {
			found = append(found, in)
		}
	}
	res := describeInstancesResponse{XMLNS: ec2XMLNS, RequestID: reqID}
	end := len(found)
	if paged && offset+maxResults < end {
		end = offset + maxResults
		res.NextToken = pageToken(end)
	}
	for _, in := range found[min(offset, len(found)):end] {
		res.Reservations = append(res.Reservations, xmlReservation{
			ReservationID: "r-" + strings.TrimPrefix(in.id, "i-"),
			OwnerID:       "123456789012",
			Instances:     []xmlInstance{in.toXML()},
		})
	}
	return res, nil
}

func matchAll(filters []instanceFilter, in *instance) bool {
	for _, f := range filters {
		if !f.match(in) {
			return false
		}
	}
	return true
}

func (in *instance) toXML() xmlInstance {
	x := xmlInstance{
		InstanceID:     in.id,
		ImageID:        "ami-0fa4e0000000000f1",
		PrivateDNSName: fmt.Sprintf("ip-%s.ec2.internal", strings.ReplaceAll(in.ip, ".", "-")),
		InstanceType:   instanceType,
		LaunchTime:     isoTime(in.launched),
		TagSet:         []xmlTag{{Key: "aws:autoscaling:groupName", Value: in.group}},
	}
	x.InstanceState.Code = stateCodes[in.state]
	x.InstanceState.Name = in.state
	x.Placement.AvailabilityZone = in.az
	if in.state != stateTerminated {
		x.PrivateIPAddress = in.ip
	} else {
		x.PrivateDNSName = ""
	}
	return x
}
