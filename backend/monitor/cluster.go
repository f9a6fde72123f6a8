package monitor

import (
	"github.com/herald-chat/herald/backend"
	"github.com/prometheus/client_golang/prometheus"
)

// SetCluster makes the node's view of its cluster part of the reports: Cluster returns it, and
// registries made after this call carry the herald_cluster_* gauges. A single server never calls
// it; status must be cheap (it is called on every scrape and every GET of the monitor).
func (m *Monitor) SetCluster(status func() *backend.ClusterStatus) {
	if m != nil {
		m.cluster.Store(&status)
	}
}

// Cluster is the node's view of its cluster, nil for a single server (or the monitor off).
func (m *Monitor) Cluster() *backend.ClusterStatus {
	if m == nil {
		return nil
	}
	if f := m.cluster.Load(); f != nil {
		return (*f)()
	}
	return nil
}

var (
	descClusterLogSeq     = prometheus.NewDesc("herald_cluster_log_seq", "The replicated log's newest entry, as this node last read it.", nil, nil)
	descClusterAppliedSeq = prometheus.NewDesc("herald_cluster_applied_seq", "The newest log entry this node has applied to its store.", nil, nil)
	descClusterLag        = prometheus.NewDesc("herald_cluster_lag", "Log entries this node has yet to apply.", nil, nil)
	descClusterWriter     = prometheus.NewDesc("herald_cluster_writer", "1 while this node holds the writer's lease, else 0.", nil, nil)
	descClusterNodes      = prometheus.NewDesc("herald_cluster_nodes", "Nodes of the cluster heard from lately, this one included.", nil, nil)
)

// clusterCollector serves the herald_cluster_* gauges from the status at scrape time.
type clusterCollector struct{ m *Monitor }

func (c clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descClusterLogSeq, descClusterAppliedSeq, descClusterLag, descClusterWriter, descClusterNodes} {
		ch <- d
	}
}

func (c clusterCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.Cluster()
	if s == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	writer := 0.0
	if s.Role == backend.RoleWriter {
		writer = 1
	}
	gauge(descClusterLogSeq, float64(s.LogSeq))
	gauge(descClusterAppliedSeq, float64(s.AppliedSeq))
	gauge(descClusterLag, float64(s.Lag))
	gauge(descClusterWriter, writer)
	gauge(descClusterNodes, float64(len(s.Nodes)))
}
