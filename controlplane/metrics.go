package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	}
	m.reg.MustRegister(m.WriteRPCs, m.Updates, m.UpdateErrors, m.Undone, m.Reconciles, m.Drift, m.Pushes,
		m.Connected, m.Primary, m.Allocation, m.Demand, m.LoopLatency, m.MeterWrites, m.PolicyLoads)
	return m
}

// Registry returns the registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// observeWrite is a WithWriteObserver callback for one switch.
func (m *Metrics) observeWrite(sw string) func(int, error) {
	return func(n int, err error) {
		if m == nil {
			return
		}
		result := "ok"
		if err != nil {
			result = "error"
			for _, ue := range failedUpdates(err) {
				m.UpdateErrors.WithLabelValues(sw, ue.Code.String()).Inc()
			}
		}
		m.WriteRPCs.WithLabelValues(sw, result).Inc()
		m.Updates.WithLabelValues(sw).Add(float64(n))
	}
}

// ServeMetrics serves /metrics on addr until ctx ends. It returns the bound
// address once listening (so ":0" works in tests), and an error if the
// address cannot be bound.
func ServeMetrics(ctx context.Context, addr string, m *Metrics) (string, <-chan error, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
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
