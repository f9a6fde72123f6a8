package teamserver

// PresenceHolders is how many nodes hold a stream of userID as this cluster node's presence
// view has it (0 on a single server): a test waits for a stream to count before what depends
// on it.
func (s *Server) PresenceHolders(userID string) int {
	cp, ok := s.Presence.(*clusterPresence)
	if !ok {
		return 0
	}
	return cp.view.holders(userID)
}
