package client

import "time"

// SetJitter replaces the backoff's random draw (ceil → delay) of s; call it before Run.
func SetJitter(s *Stream, f func(ceil time.Duration) time.Duration) { s.jitter = f }

// Delay exposes the backoff computation.
func (s *Stream) Delay(failures int, floor time.Duration) time.Duration {
	return s.delay(failures, floor)
}

// SetServerRetry pretends the server sent retry: d.
func SetServerRetry(s *Stream, d time.Duration) { s.retry = d }

// SetWaitHook makes Run call f with each backoff delay before it waits; call it before Run.
func SetWaitHook(s *Stream, f func(time.Duration)) { s.onWait = f }
