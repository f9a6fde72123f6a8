package teamserver

import (
	"context"
	"time"
)

// StoredObjects names what the cluster's object store holds.
func (s *Server) StoredObjects(ctx context.Context) ([]string, error) {
	objs, err := s.cluster.files.objects.List(ctx)
	var names []string
	for _, o := range objs {
		names = append(names, o.Name)
	}
	return names, err
}

// SweepFiles runs one round of the node's files sweep now.
func (s *Server) SweepFiles(ctx context.Context) error { return s.cluster.sweepOnce(ctx, s.Files) }

// TrimFiles trims the node's copies of files as its sweep does, to budget bytes and sparing
// copies younger than minAge (the sweep's: orphanObjectAge); it returns how many it removed.
func (s *Server) TrimFiles(ctx context.Context, budget int64, minAge time.Duration) (int, error) {
	ready := func(ctx context.Context, id string) (bool, error) { return fileShared(ctx, s.cluster.store, id) }
	n, _, err := s.Files.Trim(ctx, budget, minAge, ready)
	return n, err
}
