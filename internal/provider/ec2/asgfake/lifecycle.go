package asgfake

import (
	"fmt"
	"slices"

	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
	"github.com/adofleet/adofleet/internal/provider/ec2/internal/queryfake"
)

// Lifecycle hooks, as far as Environment VM resources need them: a termination hook holds an
// instance the group removes in Terminating:Wait until CompleteLifecycleAction names it (by token
// or instance id) with CONTINUE or ABANDON; either way the instance then terminates.

// LifecycleAction is one instance held by a hook.
type LifecycleAction struct {
	Group, Hook, InstanceID, Token string
}

// PutTerminationHook adds a termination lifecycle hook to a group.
func (s *Server) PutTerminationHook(group, hook string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks[group] = hook
}

// Launch adds one running instance to a group (desired capacity included), as a scale-out
// does, and returns its id.
func (s *Server) Launch(group string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[group]
	id := s.ec2.Add(ec2fake.Instance{State: "running", InstanceType: "t3.micro", SubnetID: "subnet-asg",
		Tags: map[string]string{"aws:autoscaling:groupName": g.Name}})
	g.Instances = append(g.Instances, id)
	g.Desired = len(g.Instances)
	return id
}

// ScaleIn removes an instance from its group as a scale-in does. With a termination hook the
// instance waits in Terminating:Wait and the pending action is returned (held true); without one
// it is terminated at once.
func (s *Server) ScaleIn(id string) (a LifecycleAction, held bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		if !slices.Contains(g.Instances, id) {
			continue
		}
		hook := s.hooks[g.Name]
		if hook == "" {
			s.removeLocked(g, id, "Client.UserInitiatedShutdown: scale-in")
			g.Desired = len(g.Instances)
			return LifecycleAction{}, false
		}
		if a, ok := s.actions[id]; ok {
			return *a, true
		}
		s.tokens++
		a := &LifecycleAction{Group: g.Name, Hook: hook, InstanceID: id, Token: fmt.Sprintf("7c0ffee0-0000-4000-8000-%012x", s.tokens)}
		s.actions[id] = a
		return *a, true
	}
	return LifecycleAction{}, false
}

// Pending returns the instances held in Terminating:Wait.
func (s *Server) Pending() []LifecycleAction {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LifecycleAction, 0, len(s.actions))
	for _, a := range s.actions {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b LifecycleAction) int {
		switch {
		case a.InstanceID < b.InstanceID:
			return -1
		case a.InstanceID > b.InstanceID:
			return 1
		}
		return 0
	})
	return out
}

// completeLifecycleAction answers CompleteLifecycleAction; the caller holds s.mu.
func (s *Server) completeLifecycleAction(q *queryfake.Params) (any, *queryfake.Error) {
	g, err := s.group(q)
	if err != nil {
		return nil, err
	}
	hook := q.Get("LifecycleHookName")
	if hook == "" || s.hooks[g.Name] != hook {
		return nil, validation("No Lifecycle Hook found with name %s for group %s", hook, g.Name)
	}
	switch r := q.Get("LifecycleActionResult"); r {
	case "CONTINUE", "ABANDON":
	default:
		return nil, validation("Invalid LifecycleActionResult %q: must be CONTINUE or ABANDON", r)
	}
	token, id := q.Get("LifecycleActionToken"), q.Get("InstanceId")
	var a *LifecycleAction
	for _, x := range s.actions {
		if x.Group == g.Name && x.Hook == hook && (token == "" || x.Token == token) && (id == "" || x.InstanceID == id) {
			a = x
		}
	}
	if a == nil || (token == "" && id == "") {
		if token != "" {
			return nil, validation("No active Lifecycle Action found with token %s", token)
		}
		return nil, validation("No active Lifecycle Action found with instance ID %s", id)
	}
	delete(s.actions, a.InstanceID)
	s.removeLocked(g, a.InstanceID, "Client.UserInitiatedShutdown: scale-in")
	g.Desired = len(g.Instances)
	return empty{}, nil
}
