package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/p4qos/p4qos/internal/buildinfo"
)

// DefaultMetricsAddr is loopback only: the metrics say what the network
// carries and need not be exposed further by default.
const DefaultMetricsAddr = "127.0.0.1:9464"

// Metrics are the controller's Prometheus metrics, in their own registry
// (no global state).
type Metrics struct {
	reg *prometheus.Registry

	WriteRPCs    *prometheus.CounterVec // switch, result
	Updates      *prometheus.CounterVec // switch
	UpdateErrors *prometheus.CounterVec // switch, code
	Undone       *prometheus.CounterVec // switch
	Reconciles   *prometheus.CounterVec // switch, result
	Drift        *prometheus.CounterVec // switch
	Pushes       *prometheus.CounterVec // switch
	Connected    *prometheus.GaugeVec   // switch
	Primary      *prometheus.GaugeVec   // switch
	Allocation   *prometheus.GaugeVec   // flow_group
	Demand       *prometheus.GaugeVec   // flow_group
	LoopLatency  prometheus.Histogram
	MeterWrites  *prometheus.CounterVec // switch
	PolicyLoads  *prometheus.CounterVec // result
	// Link liveness: rounds of probes sent, and how long sending one took
	// (a round longer than the probe interval delays the next: the links
	// are then probed less often than configured).
	ProbeRounds    prometheus.Counter
	ProbeRoundTime prometheus.Histogram
	LinkChanges    *prometheus.CounterVec // to (down, up)

	// Read from the switches' counters after every closed-loop round.
	ClassBytes   *prometheus.CounterVec // switch, class
	ClassPackets *prometheus.CounterVec // switch, class
	QueueBytes   *prometheus.CounterVec // switch, port, queue
	QueuePackets *prometheus.CounterVec // switch, port, queue
	LinkBytes    *prometheus.CounterVec // link
	LinkCapacity *prometheus.GaugeVec   // link
	LinkUtil     *prometheus.GaugeVec   // link
	Usage        *prometheus.GaugeVec   // flow_group
	Enforced     *prometheus.GaugeVec   // flow_group
	// Where the target reports them (the sim): packets per meter colour,
	// and drops by reason (meter: color_action dropped; queue: no room).
	ColorPackets   *prometheus.CounterVec // switch, class, color
	DroppedPackets *prometheus.CounterVec // switch, class, reason
	BuildInfo      *prometheus.GaugeVec   // version, revision, go_version
}

// NewMetrics creates and registers the metrics.
func NewMetrics() *Metrics {
	sw := []string{"switch"}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		WriteRPCs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p4qos_write_rpcs_total",
			Help: "P4Runtime Write RPCs sent, by result."}, []string{"switch", "result"}),
		Updates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p4qos_updates_total",
			Help: "Updates sent in Write RPCs."}, sw),
		UpdateErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p4qos_update_errors_total",
			Help: "Updates the switch rejected, by canonical code."}, []string{"switch", "code"}),
		Undone: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p4qos_updates_undone_total",
			Help: "Applied updates rolled back after a partial failure."}, sw),
		Reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p4qos_reconciles_total",
			Help: "Reconciliation runs, by result."}, []string{"switch", "result"}),
		Drift: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p4qos_reconcile_drift_total",
			Help: "Entities found changed behind the controller's back and repaired."}, sw),
		Pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p4qos_pipeline_pushes_total",
			Help: "Forwarding pipeline pushes."}, sw),
		Connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "p4qos_switch_connected",
			Help: "1 while an arbitrated stream to the switch is open."}, sw),
		Primary: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "p4qos_switch_primary",
			Help: "1 while this controller is the primary for the switch."}, sw),
		Allocation: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "p4qos_allocation_bits_per_second",
			Help: "Bandwidth allocated to each flow group."}, []string{"flow_group"}),
		Demand: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "p4qos_demand_bits_per_second",
			Help: "Estimated demand of each flow group."}, []string{"flow_group"}),
		LoopLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "p4qos_loop_latency_seconds",
			Help:    "Closed-loop latency: counters read to meters written.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		MeterWrites: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p4qos_loop_entity_writes_total",
			Help: "Meter and WCMP group updates written by the closed loop."}, sw),
		PolicyLoads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p4qos_policy_loads_total",
			Help: "Policy (re)loads, by result."}, []string{"result"}),
		ProbeRounds: prometheus.NewCounter(prometheus.CounterOpts{Name: "p4qos_link_probe_rounds_total",
			Help: "Rounds of link-liveness probes sent (one probe out of each end of every probed link)."}),
		ProbeRoundTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "p4qos_link_probe_round_seconds",
			Help:    "Time to send one round of link-liveness probes.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		LinkChanges: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p4qos_link_liveness_changes_total",
			Help: "Links link liveness found down (probes unanswered) or back up."}, []string{"to"}),
	}
	m.ClassBytes = counterVec("p4qos_class_bytes_total", "Bytes counted by class_counter (egress, after metering), by switch and class.", "switch", "class")
	m.ClassPackets = counterVec("p4qos_class_packets_total", "Packets counted by class_counter, by switch and class.", "switch", "class")
	m.QueueBytes = counterVec("p4qos_queue_bytes_total", "Bytes counted by queue_counter, by switch, egress port and queue.", "switch", "port", "queue")
	m.QueuePackets = counterVec("p4qos_queue_packets_total", "Packets counted by queue_counter, by switch, egress port and queue.", "switch", "port", "queue")
	m.LinkBytes = counterVec("p4qos_link_transmit_bytes_total", "Bytes sent on each directed link (its egress port's queue_counter cells).", "link")
	m.LinkCapacity = gaugeVec("p4qos_link_capacity_bytes_per_second", "Capacity of each directed link (the topology's, per direction).", "link")
	m.LinkUtil = gaugeVec("p4qos_link_utilization_ratio", "Load of each directed link over its capacity in the latest closed-loop round (0-1).", "link")
	m.Usage = gaugeVec("p4qos_usage_bits_per_second", "Measured usage of each flow group in the latest closed-loop round.", "flow_group")
	m.Enforced = gaugeVec("p4qos_enforced_bits_per_second", "Meter rate (CIR) installed for each flow group's class on its ingress switch.", "flow_group")
	m.ColorPackets = counterVec("p4qos_meter_color_packets_total", "Packets class_meter marked each colour, where the target reports it.", "switch", "class", "color")
	m.DroppedPackets = counterVec("p4qos_dropped_packets_total", "Packets dropped, by reason (meter: colour action; queue: no room), where the target reports it.", "switch", "class", "reason")
	m.BuildInfo = gaugeVec("p4qos_build_info", "Always 1: the running binary's version, VCS revision and Go version.", "version", "revision", "go_version")
	bi := buildinfo.Read()
	m.BuildInfo.WithLabelValues(bi.Version, bi.Revision, bi.GoVersion).Set(1)
	m.reg.MustRegister(m.WriteRPCs, m.Updates, m.UpdateErrors, m.Undone, m.Reconciles, m.Drift, m.Pushes,
		m.Connected, m.Primary, m.Allocation, m.Demand, m.LoopLatency, m.MeterWrites, m.PolicyLoads, m.ProbeRounds, m.ProbeRoundTime, m.LinkChanges,
		m.ClassBytes, m.ClassPackets, m.QueueBytes, m.QueuePackets, m.LinkBytes, m.LinkCapacity, m.LinkUtil, m.Usage, m.Enforced,
		m.ColorPackets, m.DroppedPackets, m.BuildInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

func gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
}

// Registry returns the registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// observeWrite is a WithWriteObserver callback for one switch (nil
// without metrics). Its counters are resolved here, once per switch, not
// per RPC: a label lookup hashes the values under the vector's lock.
func (m *Metrics) observeWrite(sw string) func(int, error) {
	if m == nil {
		return nil
	}
	ok, failed, updates := m.WriteRPCs.WithLabelValues(sw, "ok"), m.WriteRPCs.WithLabelValues(sw, "error"), m.Updates.WithLabelValues(sw)
	return func(n int, err error) {
		if err != nil {
			failed.Inc()
			for _, ue := range failedUpdates(err) {
				m.UpdateErrors.WithLabelValues(sw, ue.Code.String()).Inc()
			}
		} else {
			ok.Inc()
		}
		updates.Add(float64(n))
	}
}

// ServeMetrics serves /metrics on addr until ctx ends. It returns the bound
// address once listening (so ":0" works in tests), and an error if the
// address cannot be bound.
func ServeMetrics(ctx context.Context, addr string, m *Metrics) (string, <-chan error, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	return Serve(ctx, addr, mux, nil)
}

// Serve serves h on addr until ctx ends, then calls onShutdown (if not
// nil: it ends long-lived responses such as event streams, which would
// otherwise hold the shutdown up) and shuts the server down. It returns
// the bound address once listening.
func Serve(ctx context.Context, addr string, h http.Handler, onShutdown func()) (string, <-chan error, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	if onShutdown != nil {
		srv.RegisterOnShutdown(onShutdown)
	}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(lis)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return lis.Addr().String(), done, nil
}
