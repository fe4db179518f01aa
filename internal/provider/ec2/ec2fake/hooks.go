package ec2fake

import "net/http"

// Hooks let a test act as the instances' operating system: start a simulated agent when an
// instance launches, stop it when the instance is terminated. Set them before the first call.
type Hooks struct {
	// OnRunInstances is called with each instance RunInstances creates (not for an idempotent
	// replay of a ClientToken), e.g. to start the agent its tags and user data describe.
	OnRunInstances func(Instance)
	// OnTerminate is called with each instance TerminateInstances moves to terminated.
	OnTerminate func(Instance)
}

// SetHooks installs h.
func (s *Server) SetHooks(h Hooks) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = h
}

// queueHookLocked schedules fn(in) to run once the current request has been answered by the
// operation, outside the fake's lock, so a hook may call the fake (SetState, Instances).
func (s *Server) queueHookLocked(fn func(Instance), in *Instance) {
	if fn != nil {
		snap := in.clone() // now, under the lock
		s.pending = append(s.pending, func() { fn(snap) })
	}
}

// withHooks runs the hooks the request queued after next has handled it.
func (s *Server) withHooks(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		s.mu.Lock()
		run := s.pending
		s.pending = nil
		s.mu.Unlock()
		for _, fn := range run {
			fn()
		}
	})
}
