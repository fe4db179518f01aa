package sqlite

// ListCacheHits is how many ListAgents calls the list cache has answered without a query.
func ListCacheHits(s *Store) int {
	s.agents.mu.Lock()
	defer s.agents.mu.Unlock()
	return s.agents.hits
}
