package backend

import "time"

// MonitorMinute is one minute of the health monitor's history, kept in the store for
// MonitorRetention so that the admin dashboard's trends survive restarts. Counts are of that
// minute; Streams is the number open at its end. Latencies are milliseconds.
type MonitorMinute struct {
	Start        int64   `json:"t"` // Unix ms of the minute's first instant (UTC)
	Streams      int64   `json:"streams"`
	PeakStreams  int64   `json:"peakStreams"`
	Connects     int64   `json:"connects"`
	Refused      int64   `json:"refused"`
	Disconnects  int64   `json:"disconnects"`
	Events       int64   `json:"events"` // event frames written to streams
	Bytes        int64   `json:"bytes"`  // bytes written to streams
	Posts        int64   `json:"posts"`  // POST requests answered
	PostP50Ms    float64 `json:"postP50Ms"`
	PostP99Ms    float64 `json:"postP99Ms"`
	FanoutP50Ms  float64 `json:"fanoutP50Ms"`
	FanoutP99Ms  float64 `json:"fanoutP99Ms"`
	Errors       int64   `json:"errors"` // error answers (any status ≥ 400)
	ServerErrors int64   `json:"serverErrors"`
	Resyncs      int64   `json:"resyncs"`
	// PollRequests and PollBytes are what 15-second polling would have cost the clients open in
	// that minute: each stream's followed chats × 4 requests × the measured size of a history poll.
	PollRequests int64 `json:"pollRequests"`
	PollBytes    int64 `json:"pollBytes"`
}

// Bounds of the monitor's history.
const (
	// MonitorRetention is how long minutes are kept.
	MonitorRetention = 7 * 24 * time.Hour
	// MaxMonitorMinutes bounds the stored minutes whatever the clock does (7 days of minutes).
	MaxMonitorMinutes = 7 * 24 * 60
)
