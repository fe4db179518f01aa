package ec2fake

// ClearTags removes an instance's tags, as happens to a terminated instance before a late
// termination notice is read (tags are often gone by then).
func (s *Server) ClearTags(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in, ok := s.instances[id]; ok {
		in.Tags = map[string]string{}
	}
}
