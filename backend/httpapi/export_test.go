package httpapi

// SetStreamWatcherHook sets testHookWatcherStart for the external tests; call it before the
// test server opens any stream, and reset it with nil in a Cleanup.
func SetStreamWatcherHook(f func()) { testHookWatcherStart = f }
