package monitor

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Prometheus metrics: herald_* with units in their names and low-cardinality labels (kinds,
// causes, error codes; never user or chat ids). They are read from the monitor's atomics at
// scrape time, so serving them adds nothing to the hot path.
var (
	descStreamsOpen  = prometheus.NewDesc("herald_streams_open", "Streams open now, by kind.", []string{"kind"}, nil)
	descStreamsPeak  = prometheus.NewDesc("herald_streams_peak", "The most streams open at once since the server started.", nil, nil)
	descConnects     = prometheus.NewDesc("herald_stream_connects_total", "Streams opened (answered 200).", nil, nil)
	descRefused      = prometheus.NewDesc("herald_stream_refused_total", "Stream requests refused, by cause.", []string{"cause"}, nil)
	descDisconnects  = prometheus.NewDesc("herald_stream_disconnects_total", "Streams closed, by cause.", []string{"cause"}, nil)
	descEvents       = prometheus.NewDesc("herald_stream_events_total", "Event frames written to streams.", nil, nil)
	descBytes        = prometheus.NewDesc("herald_stream_bytes_total", "Bytes written to streams (frames and keepalives).", nil, nil)
	descResumes      = prometheus.NewDesc("herald_stream_resumes_total", "Streams opened with a Last-Event-ID.", nil, nil)
	descBacklog      = prometheus.NewDesc("herald_stream_backlog_events_total", "Events replayed from the log to resuming streams.", nil, nil)
	descResyncs      = prometheus.NewDesc("herald_stream_resyncs_total", "RESYNC frames sent.", nil, nil)
	descPublished    = prometheus.NewDesc("herald_broker_published_events_total", "Events handed to the broker.", nil, nil)
	descDelivered    = prometheus.NewDesc("herald_broker_delivered_events_total", "Event copies queued for subscribers.", nil, nil)
	descDropped      = prometheus.NewDesc("herald_broker_dropped_ephemeral_events_total", "Ephemeral events dropped from full queues.", nil, nil)
	descOverflows    = prometheus.NewDesc("herald_broker_overflows_total", "Streams closed because durable events did not fit their queue.", nil, nil)
	descFanout       = prometheus.NewDesc("herald_fanout_latency_seconds", "From the broker receiving an event to its frame written to a stream.", nil, nil)
	descPost         = prometheus.NewDesc("herald_http_post_duration_seconds", "POST request durations.", nil, nil)
	descCommit       = prometheus.NewDesc("herald_store_commit_duration_seconds", "Store write transaction durations.", nil, nil)
	descBatch        = prometheus.NewDesc("herald_store_commit_batch_writes", "Writes carried by one store commit.", nil, nil)
	descConnDuration = prometheus.NewDesc("herald_stream_connection_duration_seconds", "How long closed streams lasted.", nil, nil)
	descErrors       = prometheus.NewDesc("herald_http_errors_total", "Error answers, by error code.", []string{"code"}, nil)
	descStoreBytes   = prometheus.NewDesc("herald_store_size_bytes", "The store's file size.", nil, nil)
)

type collector struct{ m *Monitor }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStreamsOpen, descStreamsPeak, descConnects, descRefused, descDisconnects, descEvents, descBytes,
		descResumes, descBacklog, descResyncs, descPublished, descDelivered, descDropped, descOverflows, descFanout, descPost, descCommit,
		descBatch, descConnDuration, descErrors, descStoreBytes} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	byKind := map[Kind]int64{KindStream: 0, KindChat: 0, KindNotifications: 0}
	m.mu.Lock()
	for _, s := range m.live {
		byKind[s.info.Kind]++
	}
	m.mu.Unlock()
	for k, n := range byKind {
		gauge(descStreamsOpen, n, string(k))
	}
	gauge(descStreamsPeak, m.peak.Load())
	counter(descConnects, m.connects.Load())
	for _, r := range Refusals {
		counter(descRefused, m.refused[refusalIndex[r]].Load(), string(r))
	}
	for _, e := range Ends {
		counter(descDisconnects, m.disconnects[endIndex[e]].Load(), string(e))
	}
	counter(descEvents, m.events.Load())
	counter(descBytes, m.bytes.Load())
	counter(descResumes, m.resumes.Load())
	counter(descBacklog, m.backlog.Load())
	counter(descResyncs, m.resyncs.Load())
	if f := m.broker.Load(); f != nil {
		b := (*f)()
		counter(descPublished, b.Published)
		counter(descDelivered, b.Delivered)
		counter(descDropped, b.DroppedEphemeral)
		counter(descOverflows, b.Overflows)
	}
	for d, h := range map[*prometheus.Desc]*Histogram{descFanout: m.fanout, descPost: m.post, descCommit: m.commit, descBatch: m.batch, descConnDuration: m.duration} {
		ch <- constHistogram(d, h.Snapshot())
	}
	counts, _ := m.Errors()
	for code, n := range counts {
		counter(descErrors, n, code)
	}
	if f := m.storeSize.Load(); f != nil {
		gauge(descStoreBytes, (*f)())
	}
}

func constHistogram(d *prometheus.Desc, s HistogramSnapshot) prometheus.Metric {
	buckets := make(map[float64]uint64, len(s.Bounds))
	var cum uint64
	for i, b := range s.Bounds {
		cum += s.Counts[i]
		buckets[b] = cum
	}
	return prometheus.MustNewConstHistogram(d, s.Count, s.Sum, buckets)
}

// Registry is a Prometheus registry with the Go runtime and process collectors and the
// monitor's herald_* metrics; the herald_cluster_* gauges too once SetCluster was called.
func (m *Monitor) Registry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collector{m})
	if m.cluster.Load() != nil {
		r.MustRegister(clusterCollector{m})
	}
	return r
}

// MetricsHandler serves the registry in the Prometheus text format.
func MetricsHandler(r *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(r, promhttp.HandlerOpts{MaxRequestsInFlight: 4, Timeout: 0})
}
