package bolt

// WithInitialMmapSize maps n bytes of the file from the start (bbolt's InitialMmapSize), so that
// a test's commits never remap: a remap waits for every open read transaction.
func WithInitialMmapSize(n int) Option { return func(s *Store) { s.initialMmap = n } }

// IsLocal is isLocal for the replica check.
func IsLocal(bucket, key []byte) bool { return isLocal(bucket, key) }
