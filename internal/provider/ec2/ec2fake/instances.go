package ec2fake

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/provider/ec2/internal/queryfake"
)

// Instance is the fake's record of one instance.
type Instance struct {
	ID               string
	InstanceType     string
	SubnetID         string
	Zone             string
	State            string // pending, running, shutting-down, terminated, stopping, stopped
	Spot             bool
	Tags             map[string]string
	VolumeTags       map[string]string
	UserData         string // base64, as sent
	LaunchTemplateID string
	LaunchTemplate   string // name
	TemplateVersion  string
	ShutdownBehavior string
	ClientToken      string
	LaunchTime       time.Time
	ReasonCode       string
	ReasonMessage    string
}

func (in *Instance) clone() Instance {
	out := *in
	out.Tags = maps.Clone(in.Tags)
	out.VolumeTags = maps.Clone(in.VolumeTags)
	return out
}

// Instances returns every instance, in launch order.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Instance, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.instances[id].clone())
	}
	return out
}

// Instance returns one instance by ID.
func (s *Server) Instance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return Instance{}, false
	}
	return in.clone(), true
}

// Add creates an instance as another service (e.g. Auto Scaling) would, and returns its ID.
func (s *Server) Add(in Instance) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(in)
}

func (s *Server) addLocked(in Instance) string {
	s.nextID++
	in.ID = fmt.Sprintf("i-%017x", s.nextID)
	if in.State == "" {
		in.State = "pending"
	}
	if in.LaunchTime.IsZero() {
		in.LaunchTime = s.clock().UTC().Truncate(time.Millisecond)
	}
	if in.Zone == "" {
		in.Zone = s.Zones[in.SubnetID]
	}
	if in.Zone == "" {
		in.Zone = "us-east-1a"
	}
	if in.Tags == nil {
		in.Tags = map[string]string{}
	}
	s.instances[in.ID] = &in
	s.order = append(s.order, in.ID)
	return in.ID
}

// SetState moves an instance to state, with EC2's state reason (e.g. code
// "Client.InstanceInitiatedShutdown", message "Client.InstanceInitiatedShutdown: Instance
// initiated shutdown").
func (s *Server) SetState(id, state, reasonCode, reasonMessage string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in, ok := s.instances[id]; ok {
		in.State, in.ReasonCode, in.ReasonMessage = state, reasonCode, reasonMessage
	}
}

func (s *Server) runInstances(q *queryfake.Params) (any, *queryfake.Error) {
	token := q.Get("ClientToken")
	if ids, ok := s.tokens[token]; ok && token != "" {
		return runInstancesResponse{reservationXML: s.reservation(ids)}, nil
	}
	minCount, _ := strconv.Atoi(q.Get("MinCount"))
	maxCount, _ := strconv.Atoi(q.Get("MaxCount"))
	if minCount < 1 || maxCount < minCount {
		return nil, &queryfake.Error{Code: "InvalidParameterValue", Message: "MinCount and MaxCount must be at least 1 and MinCount <= MaxCount"}
	}
	in := Instance{
		InstanceType:     q.Get("InstanceType"),
		SubnetID:         q.Get("SubnetId"),
		UserData:         q.Get("UserData"),
		LaunchTemplateID: q.Get("LaunchTemplate.LaunchTemplateId"),
		LaunchTemplate:   q.Get("LaunchTemplate.LaunchTemplateName"),
		TemplateVersion:  q.Get("LaunchTemplate.Version"),
		ShutdownBehavior: q.Get("InstanceInitiatedShutdownBehavior"),
		Spot:             q.Get("InstanceMarketOptions.MarketType") == "spot",
		ClientToken:      token,
		Tags:             map[string]string{},
		VolumeTags:       map[string]string{},
	}
	if in.Spot {
		q.Get("InstanceMarketOptions.SpotOptions.SpotInstanceType")
		q.Get("InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior")
	}
	if in.LaunchTemplateID == "" && in.LaunchTemplate == "" && q.Get("ImageId") == "" {
		return nil, &queryfake.Error{Code: "MissingParameter", Message: "The request must contain the parameter ImageId"}
	}
	for _, spec := range q.List("TagSpecification", "ResourceType") {
		into := map[string]map[string]string{"instance": in.Tags, "volume": in.VolumeTags}[q.Get(spec+".ResourceType")]
		if into == nil {
			return nil, &queryfake.Error{Code: "InvalidParameterValue", Message: "unsupported resource type in TagSpecification"}
		}
		for _, tag := range q.List(spec+".Tag", "Key") {
			into[q.Get(tag+".Key")] = q.Get(tag + ".Value")
		}
	}
	if in.InstanceType == "" {
		in.InstanceType = "t3.micro" // the launch template's
	}
	if in.SubnetID == "" {
		in.SubnetID = "subnet-default"
	}
	if err := s.fault("RunInstances", func(f *Fault) bool {
		return (f.Spot == nil || *f.Spot == in.Spot) &&
			(f.InstanceType == "" || f.InstanceType == in.InstanceType) &&
			(f.SubnetID == "" || f.SubnetID == in.SubnetID) &&
			(f.TagKey == "" || in.Tags[f.TagKey] == f.TagValue)
	}); err != nil {
		return nil, err
	}
	var ids []string
	for range maxCount {
		id := s.addLocked(in)
		ids = append(ids, id)
		s.queueHookLocked(s.hooks.OnRunInstances, s.instances[id])
	}
	if token != "" {
		s.tokens[token] = ids
	}
	return runInstancesResponse{reservationXML: s.reservation(ids)}, nil
}

func (s *Server) reservation(ids []string) reservationXML {
	r := reservationXML{Xmlns: Namespace, RequestID: "fake-request", ReservationID: "r-" + strings.TrimPrefix(ids[0], "i-"), OwnerID: "123456789012"}
	for _, id := range ids {
		r.Instances = append(r.Instances, s.instances[id].xml())
	}
	return r
}

func (in *Instance) xml() instanceXML {
	out := instanceXML{
		InstanceID:   in.ID,
		ImageID:      "ami-0fake",
		State:        stateXML{Code: stateCodes[in.State], Name: in.State},
		InstanceType: in.InstanceType,
		LaunchTime:   in.LaunchTime,
		Placement:    placement{AvailabilityZone: in.Zone},
		SubnetID:     in.SubnetID,
		ClientToken:  in.ClientToken,
	}
	if in.Spot {
		out.InstanceLifecycle = "spot"
	}
	if in.ReasonCode != "" {
		out.StateReason = &reasonXML{Code: in.ReasonCode, Message: in.ReasonMessage}
	}
	for _, k := range slices.Sorted(maps.Keys(in.Tags)) {
		out.Tags = append(out.Tags, tagXML{Key: k, Value: in.Tags[k]})
	}
	return out
}

func (s *Server) describeInstances(q *queryfake.Params) (any, *queryfake.Error) {
	if err := s.fault("DescribeInstances", nil); err != nil {
		return nil, err
	}
	type filter struct {
		name   string
		values []string
	}
	var filters []filter
	for _, f := range q.List("Filter", "Name") {
		filters = append(filters, filter{q.Get(f + ".Name"), q.Strings(f + ".Value")})
	}
	ids := q.Strings("InstanceId")
	for _, id := range ids {
		if _, ok := s.instances[id]; !ok {
			return nil, notFound(id)
		}
	}
	var match []string
	for _, id := range s.order {
		in := s.instances[id]
		if len(ids) > 0 && !slices.Contains(ids, id) {
			continue
		}
		ok := true
		for _, f := range filters {
			var v string
			switch {
			case strings.HasPrefix(f.name, "tag:"):
				var has bool
				v, has = in.Tags[strings.TrimPrefix(f.name, "tag:")]
				if !has {
					ok = false
				}
			case f.name == "instance-state-name":
				v = in.State
			case f.name == "instance-id":
				v = in.ID
			default:
				return nil, &queryfake.Error{Code: "InvalidParameterValue", Message: fmt.Sprintf("The filter '%s' is invalid", f.name)}
			}
			if !slices.Contains(f.values, v) {
				ok = false
			}
		}
		if ok {
			match = append(match, id)
		}
	}
	start, _ := strconv.Atoi(q.Get("NextToken"))
	size, _ := strconv.Atoi(q.Get("MaxResults"))
	if s.PageSize > 0 && (size == 0 || size > s.PageSize) {
		size = s.PageSize
	}
	resp := describeInstancesResponse{Xmlns: Namespace, RequestID: "fake-request"}
	end := len(match)
	if size > 0 && start+size < end {
		end = start + size
		resp.NextToken = strconv.Itoa(end)
	}
	if start > len(match) {
		start = len(match)
	}
	for _, id := range match[start:end] {
		resp.Reservations = append(resp.Reservations, s.reservation([]string{id}))
	}
	for i := range resp.Reservations {
		resp.Reservations[i].Xmlns, resp.Reservations[i].RequestID = "", ""
	}
	return resp, nil
}

func notFound(id string) *queryfake.Error {
	return &queryfake.Error{Code: "InvalidInstanceID.NotFound", Message: fmt.Sprintf("The instance ID '%s' does not exist", id)}
}

func (s *Server) terminateInstances(q *queryfake.Params) (any, *queryfake.Error) {
	if err := s.fault("TerminateInstances", nil); err != nil {
		return nil, err
	}
	ids := q.Strings("InstanceId")
	// Like EC2, unknown IDs fail the whole call, and the message names them all.
	var unknown []string
	for _, id := range ids {
		if _, ok := s.instances[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) == 1 {
		return nil, notFound(unknown[0])
	}
	if len(unknown) > 1 {
		return nil, &queryfake.Error{Code: "InvalidInstanceID.NotFound", Message: fmt.Sprintf("The instance IDs '%s' do not exist", strings.Join(unknown, ", "))}
	}
	resp := terminateInstancesResponse{Xmlns: Namespace, RequestID: "fake-request"}
	for _, id := range ids {
		in := s.instances[id]
		prev := stateXML{Code: stateCodes[in.State], Name: in.State}
		if in.State != "terminated" {
			in.State = "terminated"
			in.ReasonCode = "Client.UserInitiatedShutdown"
			in.ReasonMessage = "Client.UserInitiatedShutdown: User initiated shutdown"
			s.queueHookLocked(s.hooks.OnTerminate, in)
		}
		resp.Changes = append(resp.Changes, stateChangeXML{InstanceID: id, PreviousState: prev,
			CurrentState: stateXML{Code: stateCodes[in.State], Name: in.State}})
	}
	return resp, nil
}

func (s *Server) createTags(q *queryfake.Params) (any, *queryfake.Error) {
	if err := s.fault("CreateTags", nil); err != nil {
		return nil, err
	}
	ids := q.Strings("ResourceId")
	for _, id := range ids {
		if _, ok := s.instances[id]; !ok {
			return nil, notFound(id)
		}
	}
	for _, id := range ids {
		for _, tag := range q.List("Tag", "Key") {
			s.instances[id].Tags[q.Get(tag+".Key")] = q.Get(tag + ".Value")
		}
	}
	return createTagsResponse{Xmlns: Namespace, RequestID: "fake-request", Return: true}, nil
}
