package teamserver

import "context"

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
