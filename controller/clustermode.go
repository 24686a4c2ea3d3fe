package controller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/controller/cluster"
	"github.com/p4qos/p4qos/controlplane"
)

// clusterMetrics are the cluster mode's metrics, registered beside the
// daemon's when Run starts in cluster mode.
type clusterMetrics struct {
	master     *prometheus.GaugeVec   // switch
	fenced     *prometheus.CounterVec // switch
	mastership *prometheus.CounterVec // switch, change
	joined     prometheus.Gauge
}

func newClusterMetrics(reg prometheus.Registerer) *clusterMetrics {
	sw := []string{"switch"}
	m := &clusterMetrics{
		master: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "p4qos_cluster_master",
			Help: "Cluster mode: 1 while this instance holds the switch's mastership in etcd."}, sw),
		fenced: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p4qos_writes_fenced_total",
			Help: "Writes the switch refused with PERMISSION_DENIED: another controller had become primary."}, sw),
		mastership: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p4qos_cluster_mastership_changes_total",
			Help: "Cluster mode: masterships this instance acquired or released, by switch and change (acquired, released)."}, []string{"switch", "change"}),
		joined: prometheus.NewGauge(prometheus.GaugeOpts{Name: "p4qos_cluster_joined",
			Help: "Cluster mode: 1 while this instance is registered in etcd with a live lease, 0 while etcd is unreachable."}),
	}
	reg.MustRegister(m.master, m.fenced, m.mastership, m.joined)
	return m
}

// clusterState is the controller's part in a cluster (cfg.Cluster set).
type clusterState struct {
	metrics *clusterMetrics
	ms      *cluster.Mastership
	store   *cluster.Store
	mu      sync.Mutex
	fenced  map[string]uint64
}

// ConnectCluster opens the etcd client that cfg's cluster settings name.
func ConnectCluster(cfg *Config) (*clientv3.Client, error) {
	return cluster.Connect(cluster.Options{URL: cfg.Cluster, TLSCA: cfg.ClusterTLSCA, TLSCert: cfg.ClusterTLSCert, TLSKey: cfg.ClusterTLSKey})
}

// InstanceID is cfg's cluster-id, or host name and process id.
func InstanceID(cfg *Config) string {
	if cfg.ClusterID != "" {
		return cfg.ClusterID
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// Mastership is the cluster mastership (nil outside cluster mode or before Run).
func (c *Controller) Mastership() *cluster.Mastership {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cluster == nil {
		return nil
	}
	return c.cluster.ms
}

// runCluster is Run in cluster mode: the intent comes from the store (the
// files only seed an empty one), every switch's session starts as a standby
// with this instance's backup id, and the mastership makes it the master of
// its share of the switches.
func (c *Controller) runCluster(ctx context.Context) error {
	cli, err := ConnectCluster(&c.cfg)
	if err != nil {
		return inputErr(fmt.Errorf("cluster: %w", err))
	}
	defer cli.Close()
	cs := &clusterState{store: cluster.NewStore(cli), fenced: map[string]uint64{}, metrics: newClusterMetrics(c.metrics.Registry())}
	c.mu.Lock()
	c.cluster = cs
	c.mu.Unlock()
	if err := c.seedOrLoad(ctx, cs); err != nil {
		return err
	}
	var names []string
	for _, sw := range c.fabric.Switches() {
		names = append(names, sw.Name)
	}
	joined := make(chan struct{})
	var once sync.Once
	ms := cluster.NewMastership(cli, InstanceID(&c.cfg), names, func(ch cluster.Change) {
		c.onMastership(ch)
		if ch.Kind == cluster.Joined {
			once.Do(func() { close(joined) })
		}
	}, cluster.WithLeaseTTL(c.cfg.ClusterLease), cluster.WithLogger(c.log))
	c.mu.Lock()
	cs.ms = ms
	c.mu.Unlock()
	mctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = cs.ms.Run(mctx) }()
	defer func() { stop(); <-done }()
	go cs.store.Watch(mctx, func(in cluster.Intent) { c.applyStored(mctx, cs, in) })
	// The sessions dial with the backup id: wait for the first join.
	select {
	case <-joined:
	case <-ctx.Done():
		return nil
	}
	c.log.Info("controller running in cluster mode", "instance", InstanceID(&c.cfg), "cluster", c.cfg.Cluster,
		"switches", len(names), "lease", c.cfg.ClusterLease)
	return c.daemon.Run(ctx)
}

// seedOrLoad makes the store's intent the running one, or seeds an empty
// store with the files' (waiting for etcd while it is unreachable).
func (c *Controller) seedOrLoad(ctx context.Context, cs *clusterState) error {
	warned := false
	for {
		gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		in, ok, err := cs.store.Get(gctx)
		if err == nil && !ok {
			err = c.seed(gctx, cs)
			if err == nil {
				c.log.Info("intent store was empty: seeded it from the policy and topology files", "policy", c.cfg.Policy, "topology", c.cfg.Topology)
				cancel()
				continue // read it back as every instance does
			}
		}
		cancel()
		switch {
		case err == nil:
			c.log.Info("cluster mode: the intent store is the source of truth; the policy and topology files only seed an empty store",
				"revision", in.Revision, "note", in.Note)
			c.applyStored(ctx, cs, in)
			return nil
		case errors.Is(err, cluster.ErrConflict):
			continue // another instance seeded it first
		case ctx.Err() != nil:
			return nil
		case !warned:
			c.log.Warn("etcd unreachable; waiting for it before taking part", "cluster", c.cfg.Cluster, "err", err)
			warned = true
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// seed stores the files' intent, with the state file's reservations, as
// the first revision of an empty store.
func (c *Controller) seed(ctx context.Context, cs *clusterState) error {
	c.mu.Lock()
	policy, topology, dynamic := c.policy, c.fabric.topologyData, c.dynamic
	c.mu.Unlock()
	var res []byte
	if len(dynamic) > 0 {
		var err error
		if res, err = marshalDynamic(dynamic); err != nil {
			return err
		}
	}
	_, err := cs.store.PutContent(ctx, cluster.Content{Policy: policy, Topology: topology, Reservations: res}, 0, "seeded from "+c.cfg.Policy+" and "+c.cfg.Topology)
	return err
}

// applyStored makes a stored intent revision, its reservations included,
// the running intent.
func (c *Controller) applyStored(ctx context.Context, cs *clusterState, in cluster.Intent) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c.mu.Lock()
	cur := c.storeRev
	c.mu.Unlock()
	if in.Revision == cur {
		return
	}
	dynamic := []admission.Request{}
	var err error
	if len(in.Reservations) > 0 {
		dynamic, err = admission.ParseReservations(fmt.Sprintf("intent revision %d: reservations", in.Revision), in.Reservations)
	}
	if err == nil {
		err = c.applyUpdate(ctx, update{policy: in.Policy, topology: in.Topology, dynamic: &dynamic, rev: in.Revision})
	}
	if err != nil {
		c.log.Error("stored intent rejected; keeping the running intent", "revision", in.Revision, "err", err)
		return
	}
	c.emit(Event{Kind: IntentApplied, Count: int(in.Revision), What: in.Note})
}

func (c *Controller) onMastership(ch cluster.Change) {
	c.mu.Lock()
	m := c.cluster.metrics
	c.mu.Unlock()
	switch ch.Kind {
	case cluster.Acquired, cluster.Released, cluster.Backup:
		master := ch.Kind == cluster.Acquired
		if err := c.daemon.SetElectionID(ch.Switch, ch.ElectionID, !master); err != nil {
			c.log.Debug("arbitration not sent now; the next stream carries it", "switch", ch.Switch, "err", err)
		}
		m.master.WithLabelValues(ch.Switch).Set(b2f(master))
		if ch.Kind != cluster.Backup {
			m.mastership.WithLabelValues(ch.Switch, string(ch.Kind)).Inc()
		}
		if ch.Kind == cluster.Acquired {
			c.emit(Event{Kind: MastershipAcquired, Switch: ch.Switch, What: ch.ElectionID.String()})
		} else if ch.Kind == cluster.Released {
			c.emit(Event{Kind: MastershipReleased, Switch: ch.Switch, What: ch.Reason})
		}
	case cluster.Joined:
		m.joined.Set(1)
		c.emit(Event{Kind: ClusterJoined, What: ch.ElectionID.String()})
	case cluster.Unreachable:
		m.joined.Set(0)
		c.emit(Event{Kind: ClusterUnreachable, Err: ch.Err})
	}
}

// onSessionState notices writes the switch fenced off: the instance steps
// down from that switch at once.
func (c *Controller) onSessionState(sw string, st controlplane.State) {
	c.mu.Lock()
	cs := c.cluster
	c.mu.Unlock()
	if cs == nil {
		return
	}
	cs.mu.Lock()
	prev := cs.fenced[sw]
	cs.fenced[sw] = st.Fenced
	cs.mu.Unlock()
	if st.Fenced <= prev {
		return
	}
	cs.metrics.fenced.WithLabelValues(sw).Add(float64(st.Fenced - prev))
	c.emit(Event{Kind: WriteFenced, Switch: sw, Count: int(st.Fenced - prev)})
	go cs.ms.StepDown(context.Background(), sw, "fenced: the switch refused a write")
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
