// Package asgfake is an httptest server speaking the Auto Scaling Query protocol (form-encoded
// Action=..., XML <OpResponse><OpResult>, errors as <ErrorResponse><Error><Code>) for the
// operations ASG mode uses: DescribeAutoScalingGroups, SetDesiredCapacity, SetInstanceProtection
// and TerminateInstanceInAutoScalingGroup. Its instances live in an ec2fake server, tagged
// aws:autoscaling:groupName as AWS does. Like a real group it converges on the desired capacity
// asynchronously: call Converge to launch or remove instances.
package asgfake

import (
	"encoding/xml"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
	"github.com/adofleet/adofleet/internal/provider/ec2/internal/queryfake"
)

// Namespace is the XML namespace of Auto Scaling API version 2011-01-01.
const Namespace = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

// Call is one request the fake received.
type Call = queryfake.Call

// Group is the fake's view of one Auto Scaling group.
type Group struct {
	Name                 string
	Min, Max, Desired    int
	Instances            []string        // instance IDs, oldest first
	Protected            map[string]bool // by instance ID
	InstanceType, Subnet string
}

// Server is the fake.
type Server struct {
	URL string
	ec2 *ec2fake.Server

	mu        sync.Mutex
	groups    map[string]*Group
	rec       queryfake.Recorder
	throttles map[string]int
	hooks     map[string]string           // group -> its termination hook
	actions   map[string]*LifecycleAction // instance id -> the action holding it
	tokens    int
}

// New starts a fake whose instances live in ec2, closed at the end of tb.
func New(tb testing.TB, ec2 *ec2fake.Server) *Server {
	s := &Server{ec2: ec2, groups: map[string]*Group{}, throttles: map[string]int{},
		hooks: map[string]string{}, actions: map[string]*LifecycleAction{}}
	srv := httptest.NewServer(dialect.Handler(&s.mu, &s.rec, s.dispatch))
	tb.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Client returns a real SDK client for the fake (static credentials, no retry delay).
func (s *Server) Client() *autoscaling.Client {
	return autoscaling.New(autoscaling.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
		Retryer:      ec2fake.FastRetryer(),
	})
}

// AddGroup creates a group with no instances.
func (s *Server) AddGroup(name string, minSize, maxSize int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[name] = &Group{Name: name, Min: minSize, Max: maxSize, Desired: minSize, Protected: map[string]bool{}}
}

// Group returns a copy of a group.
func (s *Server) Group(name string) Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := *s.groups[name]
	g.Instances = slices.Clone(g.Instances)
	g.Protected = make(map[string]bool, len(g.Protected))
	for k, v := range s.groups[name].Protected {
		g.Protected[k] = v
	}
	return g
}

// Throttle makes the next n calls of action fail with Throttling.
func (s *Server) Throttle(action string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttles[action] += n
}

// Calls returns the calls received for action ("" for all).
func (s *Server) Calls(action string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.Calls(action)
}

// ParamsRead returns the parameter patterns read, by action, for checking against the model.
func (s *Server) ParamsRead() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.ParamsRead()
}

// Converge launches or removes instances until each group has its desired capacity. Scale-in
// removes the newest unprotected instances; protected ones are never removed.
func (s *Server) Converge() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		for len(g.Instances) < g.Desired {
			id := s.ec2.Add(ec2fake.Instance{State: "running", InstanceType: "t3.micro", SubnetID: "subnet-asg",
				Tags: map[string]string{"aws:autoscaling:groupName": g.Name}})
			g.Instances = append(g.Instances, id)
		}
		for i := len(g.Instances) - 1; i >= 0 && len(g.Instances) > g.Desired; i-- {
			if id := g.Instances[i]; !g.Protected[id] {
				s.removeLocked(g, id, "Server.ScaleIn: scale-in")
			}
		}
	}
}

func (s *Server) removeLocked(g *Group, id, reason string) {
	g.Instances = slices.DeleteFunc(g.Instances, func(x string) bool { return x == id })
	delete(g.Protected, id)
	s.ec2.SetState(id, "terminated", "Client.UserInitiatedShutdown", reason)
}

// dispatch answers one action, wrapping its result in <OpResponse><OpResult>; the caller holds
// s.mu.
func (s *Server) dispatch(action string, q *queryfake.Params) (any, *queryfake.Error) {
	if s.throttles[action] > 0 {
		s.throttles[action]--
		return nil, &queryfake.Error{Code: "Throttling", Message: "Rate exceeded"}
	}
	var (
		result any
		err    *queryfake.Error
	)
	switch action {
	case "DescribeAutoScalingGroups":
		result, err = s.describe(q)
	case "SetDesiredCapacity":
		result, err = s.setDesired(q)
	case "SetInstanceProtection":
		result, err = s.protect(q)
	case "TerminateInstanceInAutoScalingGroup":
		result, err = s.terminate(q)
	case "CompleteLifecycleAction":
		result, err = s.completeLifecycleAction(q)
	default:
		err = &queryfake.Error{Code: "InvalidAction", Message: "unknown action " + action}
	}
	if err != nil {
		return nil, err
	}
	doc := response{XMLName: xml.Name{Local: action + "Response"}, Xmlns: Namespace,
		Meta: responseMetadata{RequestID: "fake-request"}}
	if result != nil {
		doc.Result = &resultWrapper{XMLName: xml.Name{Local: action + "Result"}, Body: result}
	}
	return doc, nil
}

func validation(format string, args ...any) *queryfake.Error {
	return &queryfake.Error{Code: "ValidationError", Message: fmt.Sprintf(format, args...)}
}

func (s *Server) group(q *queryfake.Params) (*Group, *queryfake.Error) {
	name := q.Get("AutoScalingGroupName")
	g, ok := s.groups[name]
	if !ok {
		return nil, validation("AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
	}
	return g, nil
}

func (s *Server) describe(q *queryfake.Params) (any, *queryfake.Error) {
	names := q.Strings("AutoScalingGroupNames.member")
	out := describeResult{}
	for _, name := range names {
		g, ok := s.groups[name]
		if !ok {
			continue
		}
		x := groupXML{Name: g.Name, Min: g.Min, Max: g.Max, Desired: g.Desired, DefaultCooldown: 300,
			AvailabilityZones: []string{"us-east-1a"}, HealthCheckType: "EC2", CreatedTime: time.Unix(0, 0).UTC()}
		for _, id := range g.Instances {
			in, _ := s.ec2.Instance(id)
			state := "InService"
			if in.State == "pending" {
				state = "Pending"
			}
			if _, held := s.actions[id]; held {
				state = "Terminating:Wait"
			}
			x.Instances = append(x.Instances, instanceXML{ID: id, AZ: in.Zone, LifecycleState: state,
				HealthStatus: "Healthy", Protected: g.Protected[id], InstanceType: in.InstanceType})
		}
		out.Groups = append(out.Groups, x)
	}
	return out, nil
}

func (s *Server) setDesired(q *queryfake.Params) (any, *queryfake.Error) {
	g, err := s.group(q)
	if err != nil {
		return nil, err
	}
	q.Get("HonorCooldown")
	n, _ := strconv.Atoi(q.Get("DesiredCapacity"))
	if n > g.Max {
		return nil, validation("New SetDesiredCapacity value %d is above max value %d for the AutoScalingGroup.", n, g.Max)
	}
	if n < g.Min {
		return nil, validation("New SetDesiredCapacity value %d is below min value %d for the AutoScalingGroup.", n, g.Min)
	}
	g.Desired = n
	return nil, nil
}

func (s *Server) protect(q *queryfake.Params) (any, *queryfake.Error) {
	g, err := s.group(q)
	if err != nil {
		return nil, err
	}
	on := q.Get("ProtectedFromScaleIn") == "true"
	for _, id := range q.Strings("InstanceIds.member") {
		if !slices.Contains(g.Instances, id) {
			return nil, validation("The instance %s is not part of Auto Scaling group %s.", id, g.Name)
		}
		g.Protected[id] = on
	}
	return empty{}, nil
}

func (s *Server) terminate(q *queryfake.Params) (any, *queryfake.Error) {
	id := q.Get("InstanceId")
	decrement := q.Get("ShouldDecrementDesiredCapacity") == "true"
	for _, g := range s.groups {
		if !slices.Contains(g.Instances, id) {
			continue
		}
		if decrement {
			if g.Desired-1 < g.Min {
				return nil, validation("Currently, desiredSize equals minSize (%d). Terminating instance without replacement will violate group's min size constraint.", g.Min)
			}
			g.Desired--
		}
		s.removeLocked(g, id, "Client.UserInitiatedShutdown: terminated by Auto Scaling")
		return terminateResult{Activity: activityXML{ID: "act-" + id, Group: g.Name, Cause: "terminated on request",
			StartTime: time.Unix(0, 0).UTC(), StatusCode: "InProgress"}}, nil
	}
	return nil, validation("Instance Id not found - No managed instance found for instance ID: %s", id)
}
