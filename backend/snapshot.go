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
	// LogSeq is the position in a cluster's log of the last write set the copy holds (0: a
	// single server's store, or a cluster node's before its first entry): a node started from
	// the copy follows the log from the entry after it.
	LogSeq uint64 `json:"logSeq,omitempty"`
}

// Snapshotter makes consistent copies of a store while it serves. Snapshot calls fn inside one
// read transaction: info describes the copy, size is exactly how many bytes db writes, and db
// may be written once, before fn returns. Writers go on meanwhile.
type Snapshotter interface {
	Snapshot(ctx context.Context, fn func(info SnapshotInfo, size int64, db io.WriterTo) error) error
}
