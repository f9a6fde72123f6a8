package httpapi

// SetStreamInterruptHook sets testHookInterrupt for the external tests; call it before the
// test server opens any stream, and reset it with nil in a Cleanup.
func SetStreamInterruptHook(f func()) {
	if f == nil {
		testHookInterrupt.Store(nil)
		return
	}
	testHookInterrupt.Store(&f)
}
