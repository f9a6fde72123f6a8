package backend

// ClusterRole is what a cluster node does: one node writes, the others are replicas.
type ClusterRole string

const (
	RoleWriter  ClusterRole = "writer"  // holds the writer's lease: commits, appends to the log
	RoleReplica ClusterRole = "replica" // applies the log; forwards writes to the writer
)

// ClusterStatus is a cluster node's view of its cluster, for the monitor (GET
// /api/admin/monitor's "cluster", the herald_cluster_* metrics). Sequences are positions in the
// replicated log: entries numbered 1, 2, … (0: none).
type ClusterStatus struct {
	// Node is this node's name (--node-name); Role what it does now.
	Node string      `json:"node"`
	Role ClusterRole `json:"role"`
	// Writer names the node that holds the writer's lease, as this node last read it; "" while
	// none does (a writer died and its lease has not expired, or nobody has taken it yet).
	Writer string `json:"writer"`
	// LogSeq is the log's newest entry, as read at most a heartbeat ago; AppliedSeq the newest
	// this node has applied to its store, now; Lag how many entries it is behind (LogSeq −
	// AppliedSeq, never negative).
	LogSeq     uint64 `json:"logSeq"`
	AppliedSeq uint64 `json:"appliedSeq"`
	Lag        uint64 `json:"lag"`
	// Nodes are the nodes heard from lately, this one included, by name.
	Nodes []ClusterNode `json:"nodes"`
}

// ClusterNode is one node as the others hear of it, through the heartbeat each node sends
// every second; a node unheard of for a few seconds is left out.
type ClusterNode struct {
	Name string `json:"name"`
	// Advertise is where the other nodes reach its HTTP API.
	Advertise string      `json:"advertise"`
	Role      ClusterRole `json:"role"`
	// AppliedSeq is the newest log entry it had applied when it last sent its heartbeat; Lag is
	// LogSeq − AppliedSeq with this node's LogSeq.
	AppliedSeq uint64 `json:"appliedSeq"`
	Lag        uint64 `json:"lag"`
	// LastSeenAt is when its last heartbeat arrived (Unix ms; this node: now).
	LastSeenAt int64 `json:"lastSeenAt"`
}
