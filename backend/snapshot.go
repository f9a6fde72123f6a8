package backend

import (
	"context"
	"io"
)

// SnapshotInfo describes a consistent copy of a store, as of the moment its read transaction
// began.
type SnapshotInfo struct {
	// SchemaVersion is the layout version of the copied file (see bolt.SchemaVersion).
	SchemaVersion int `json:"schemaVersion"`
	// LastEventID is the newest event id in the copy's log ("" when the log is empty): streams
	// that resume from it or an older logged id replay; a newer id is unknown to the copy (RESYNC).
	LastEventID string `json:"lastEventId"`
	// Counts are the records in the copy by kind: users, chats, messages, events, files.
	Counts map[string]int `json:"counts"`
}

// Snapshotter makes consistent copies of a store while it serves. Snapshot calls fn inside one
// read transaction: info describes the copy, size is exactly how many bytes db writes, and db
// may be written once, before fn returns. Writers go on meanwhile.
type Snapshotter interface {
	Snapshot(ctx context.Context, fn func(info SnapshotInfo, size int64, db io.WriterTo) error) error
}
