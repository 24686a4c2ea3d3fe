package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/controller/statusapi"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/internal/inputfile"
)

// Controller is the p4qos daemon as a library: it keeps the fabric's
// switches converged with the compiled policy, reloads the policy and the
// topology, applies queue settings, and runs the closed loop.
type Controller struct {
	cfg     Config
	log     *slog.Logger
	events  func(Event)
	metrics *controlplane.Metrics
	loop    *controlplane.Loop
	daemon  *controlplane.Daemon
	watcher *Watcher

	dial       func(ctx context.Context, addr string) (net.Conn, error)
	manualLoop bool
	window     time.Duration
	daemonOpts []controlplane.DaemonOption

	links       *linkMonitor // nil: no probes
	status      *status
	api         *statusapi.Server
	classCounts func() []ClassCount
	serving     func(addr string)

	mu       sync.Mutex // serialises reloads; guards the fields below
	fabric   *Fabric
	compiled *Compiled
	policy   []byte
	cluster  *clusterState
	// dynamic are the reservations admitted through the API, in
	// admission order, as persisted in the state file (statePath) or, in
	// cluster mode, the intent store.
	dynamic []admission.Request
	// storeRev is, in cluster mode, the intent-store revision of the
	// running intent (0 before the first). revChanged, when not nil, is
	// closed when it changes (awaitRevision waits on it).
	storeRev   int64
	revChanged chan struct{}

	// clLoad estimates each hop's controlled-load queue load from the
	// queue counters the closed loop reads (nil when no loop runs: then
	// controlled load is checked against the reserved rates).
	clLoad *admission.WindowMax
}

// Option configures a Controller.
type Option func(*Controller)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *Controller) { c.log = l } }

// WithEvents calls f for every event, from the controller's goroutines: f
// must not block.
func WithEvents(f func(Event)) Option { return func(c *Controller) { c.events = f } }

// WithMetrics records into m (default: a new registry).
func WithMetrics(m *controlplane.Metrics) Option { return func(c *Controller) { c.metrics = m } }

// WithDialer opens every connection to the switches, P4Runtime and queue
// interfaces alike, with dial (tests reach switches inside a network
// namespace this way).
func WithDialer(dial func(ctx context.Context, addr string) (net.Conn, error)) Option {
	return func(c *Controller) { c.dial = dial }
}

// WithManualLoop builds the closed loop but does not tick it: the caller
// drives it with Tick (the demo does, on simulated time).
func WithManualLoop() Option { return func(c *Controller) { c.manualLoop = true } }

// WithDemandWindow sets the demand estimator's window (BwE takes the
// maximum usage over it; default allocator's).
func WithDemandWindow(d time.Duration) Option { return func(c *Controller) { c.window = d } }

// WithDaemonOptions passes more options to the per-switch daemon.
func WithDaemonOptions(o ...controlplane.DaemonOption) Option {
	return func(c *Controller) { c.daemonOpts = append(c.daemonOpts, o...) }
}

// New loads the fabric and compiles the policy that cfg names; nothing is
// written to a switch before Run or Once. Errors in the input are
// *InputError.
func New(ctx context.Context, cfg Config, opts ...Option) (*Controller, error) {
	c := &Controller{cfg: cfg, status: newStatus()}
	for _, o := range opts {
		o(c)
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.metrics == nil {
		c.metrics = controlplane.NewMetrics()
	}
	c.api = statusapi.New(statusSource{c}, statusapi.WithMetrics(c.metrics.Handler()), statusapi.WithWriteToken(cfg.APIToken))
	if problems := cfg.Validate(); len(problems) > 0 {
		return nil, inputErr(&ConfigError{Problems: problems})
	}
	f, err := loadFabric(&c.cfg, c.dial)
	if err != nil {
		return nil, err
	}
	policy, err := inputfile.Read(cfg.Policy, inputfile.Policy)
	if err != nil {
		return nil, inputErr(err)
	}
	dynamic, err := loadDynamic(statePath(cfg.Policy))
	if err != nil {
		return nil, inputErr(err)
	}
	if cfg.LoopInterval > 0 || c.manualLoop {
		c.clLoad = &admission.WindowMax{}
	}
	comp, err := f.Compile(ctx, policy, c.compileOpts(dynamic)...)
	if err == nil {
		err = staticBroken(comp)
	}
	if err != nil {
		return nil, inputErr(err)
	}
	c.fabric, c.compiled, c.policy, c.dynamic = f, comp, policy, dynamic
	c.setWindow(comp)
	c.reportBroken(nil, comp)
	if cfg.ProbeInterval > 0 {
		c.links = newLinkMonitor(c)
	}
	if err := c.newDaemon(); err != nil {
		return nil, err
	}
	c.daemon.SetIntent(comp.Intents)
	c.watcher = NewWatcher(cfg.PolicyPoll, []WatchedInput{
		{Path: cfg.Policy, Kind: inputfile.Policy, Current: policy},
		{Path: cfg.Topology, Kind: inputfile.Topology, Current: f.topologyData},
	}, c.onFiles, c.onUnreadable())
	return c, nil
}

func (c *Controller) newDaemon() error {
	cfg := &c.cfg
	var sess []controlplane.SessionOption
	if cfg.TLSCA != "" || cfg.TLSCert != "" || cfg.TLSKey != "" {
		creds, err := controlplane.TLSFiles(cfg.TLSCA, cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return inputErr(err)
		}
		sess = append(sess, controlplane.WithTransportCredentials(creds))
	}
	if c.dial != nil {
		sess = append(sess, controlplane.WithDialOptions(grpc.WithContextDialer(c.dial)))
	}
	sess = append(sess,
		controlplane.WithKeepalive(cfg.Keepalive, 10*time.Second),
		controlplane.WithElectionID(controlplane.ElectionID{High: cfg.ElectionIDHigh, Low: cfg.ElectionID}),
		controlplane.WithRole(cfg.Role, nil))
	if c.links != nil {
		sess = append(sess, controlplane.WithPacketIn(c.links.packetIn))
	}
	opts := []controlplane.DaemonOption{
		controlplane.WithSessionOptions(sess...),
		controlplane.WithApplyOptions(controlplane.WithBatchSize(cfg.BatchSize)),
		controlplane.WithReconcileInterval(cfg.ReconcileInterval),
		controlplane.WithMetrics(c.metrics),
		controlplane.WithDaemonLogger(c.log),
		controlplane.WithReconcileHook(c.onReconcile),
		controlplane.WithTickHook(func(res controlplane.TickResult, err error) {
			c.onTick(res, err)
			c.afterRound(context.Background(), time.Now(), res)
		}),
	}
	if cfg.Cluster != "" {
		opts = append(opts, controlplane.WithAdoptMeters(), controlplane.WithStateHook(c.onSessionState))
	}
	if cfg.LoopInterval > 0 || c.manualLoop {
		est := allocator.NewDemandEstimator()
		if c.window > 0 {
			est = allocator.NewDemandEstimator(allocator.WithWindow(c.window))
		}
		// The loop runs even when the policy meters nothing from the
		// allocator yet: a reload may add such a class.
		c.loop = controlplane.NewLoop(c.fabric.model(c.compiled, c.status.setResult), controlplane.WithHysteresis(cfg.Hysteresis),
			controlplane.WithLoopLogger(c.log), controlplane.WithLoopMetrics(c.metrics), controlplane.WithEstimator(est))
		interval := cfg.LoopInterval
		if c.manualLoop {
			interval = 0
		}
		opts = append(opts, controlplane.WithClosedLoop(c.loop, interval))
	}
	d, err := controlplane.NewDaemon(c.fabric.Switches(), append(opts, c.daemonOpts...)...)
	if err != nil {
		return inputErr(err)
	}
	c.daemon = d
	return nil
}

func (c *Controller) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	c.status.observe(e)
	c.api.Publish(apiEvent(e))
	if c.events != nil {
		c.events(e)
	}
}

func (c *Controller) onReconcile(sw string, st controlplane.ReconcileStats, err error) {
	if err != nil {
		c.emit(Event{Kind: SwitchFailed, Switch: sw, Err: err, Stats: st})
		return
	}
	if c.links != nil {
		c.links.switchConverged(sw)
	}
	if st.SideWritten > 0 {
		c.emit(Event{Kind: QueuesApplied, Switch: sw, Count: st.SideWritten, Stats: st})
	}
	if n := st.Drift + st.SideDrift; n > 0 {
		c.emit(Event{Kind: DriftRepaired, Switch: sw, Count: n, Stats: st})
	}
	c.emit(Event{Kind: SwitchConverged, Switch: sw, Count: st.Write.Updates, Stats: st})
}

func (c *Controller) onTick(res controlplane.TickResult, _ error) {
	for sw, n := range res.Written {
		c.emit(Event{Kind: AllocationChanged, Switch: sw, Count: n})
	}
	for _, sw := range res.NotPrimary {
		c.emit(Event{Kind: NotPrimary, Switch: sw})
	}
}

// Run keeps the switches converged until ctx ends: it serves metrics,
// watches the policy and topology files, and runs the daemon. It returns
// nil on a clean shutdown, and an *InputError when a switch refuses this
// controller's election id because another live controller holds it.
func (c *Controller) Run(ctx context.Context) error {
	if c.cfg.MetricsAddr != "" && c.cfg.MetricsAddr != "off" {
		if _, err := c.Serve(ctx, c.cfg.MetricsAddr); err != nil {
			return inputErr(fmt.Errorf("metrics-addr: %w", err))
		}
	}
	if c.cfg.Cluster != "" {
		return c.runResult(c.runCluster(ctx))
	}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go c.watcher.Run(wctx)
	if c.links != nil {
		go c.links.run(wctx)
	}
	c.log.Info("controller running", "switches", len(c.fabric.Switches()), "policy", c.cfg.Policy, "topology", c.cfg.Topology,
		"election_id", controlplane.ElectionID{High: c.cfg.ElectionIDHigh, Low: c.cfg.ElectionID}.String())
	return c.runResult(c.daemon.Run(ctx))
}

func (c *Controller) runResult(err error) error {
	c.log.Info("controller stopped")
	var conflict *controlplane.ElectionConflictError
	if errors.As(err, &conflict) {
		return inputErr(err)
	}
	return err
}

// Serve serves the metrics (/metrics), the status API (/api/v1/, /healthz,
// /readyz) and the dashboard (/ui/) on addr until ctx ends; Run does so on
// metrics-addr. It returns the bound address.
func (c *Controller) Serve(ctx context.Context, addr string) (string, error) {
	bound, _, err := controlplane.Serve(ctx, addr, c.api.Handler(), c.api.Close)
	if err != nil {
		return "", err
	}
	c.log.Info("serving", "metrics", "http://"+bound+"/metrics", "api", "http://"+bound+"/api/v1/status", "dashboard", "http://"+bound+"/ui/")
	if c.serving != nil {
		c.serving(bound)
	}
	return bound, nil
}

// Once reconciles every switch once, waiting up to cfg.Timeout for each to
// accept this controller as primary.
func (c *Controller) Once(ctx context.Context) (map[string]controlplane.ReconcileStats, error) {
	octx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	return c.daemon.Once(octx)
}

// onUnreadable logs an unreadable watched file once per distinct reason.
func (c *Controller) onUnreadable() func(string, error) {
	last := map[string]string{}
	return func(path string, err error) {
		if last[path] == err.Error() {
			return
		}
		last[path] = err.Error()
		c.log.Warn("watched file unreadable; keeping the running intent", "file", path, "err", err)
	}
}

// onFiles applies files the watcher saw change.
func (c *Controller) onFiles(ctx context.Context, changed map[string][]byte) {
	policy, pok := changed[c.cfg.Policy]
	topology, tok := changed[c.cfg.Topology]
	if !pok {
		policy = nil
	}
	if !tok {
		topology = nil
	}
	_ = c.apply(ctx, policy, topology)
}

// ApplyPolicy makes data the policy, as if the policy file had changed to
// it: compiled, and on success the new intent of every switch; on failure
// the running intent stays and the error says why (reload as a library
// call, for the API and for tests).
func (c *Controller) ApplyPolicy(ctx context.Context, data []byte) error {
	if err := c.apply(ctx, data, nil); err != nil {
		return err
	}
	c.watcher.Seen(c.cfg.Policy)
	return nil
}

// ApplyTopology makes data the topology (links down or up, ports), as if
// the topology file had changed to it.
func (c *Controller) ApplyTopology(ctx context.Context, data []byte) error {
	if err := c.apply(ctx, nil, data); err != nil {
		return err
	}
	c.watcher.Seen(c.cfg.Topology)
	return nil
}

// apply compiles a new policy and/or topology (nil: unchanged) and, when
// it compiles, makes it the intent. Nothing here may take the process down:
// a panic becomes a rejection.
func (c *Controller) apply(ctx context.Context, policy, topology []byte) error {
	return c.applyUpdate(ctx, update{policy: policy, topology: topology})
}

// update is a change of the intent's inputs; nil fields are unchanged.
type update struct {
	policy, topology []byte
	// dynamic replaces the dynamic reservations (cluster mode: those of
	// the stored revision).
	dynamic *[]admission.Request
	// rev is the intent-store revision the update is (cluster mode).
	rev int64
}

func (c *Controller) applyUpdate(ctx context.Context, u update) (err error) {
	policy, topology := u.policy, u.topology
	c.mu.Lock()
	defer c.mu.Unlock()
	var what []string
	if policy != nil {
		what = append(what, "policy")
	}
	if topology != nil {
		what = append(what, "topology")
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error applying the new %s (please report this): %v", strings.Join(what, " and "), r)
		}
		if err != nil {
			c.recordReload(strings.Join(what, "+"), err)
		}
	}()
	f := c.fabric
	if topology != nil {
		if f, err = f.Reload(topology); err != nil {
			return inputErr(err)
		}
	}
	newPolicy := policy != nil
	if policy == nil {
		policy = c.policy
	}
	dynamic := c.dynamic
	if u.dynamic != nil {
		dynamic = *u.dynamic
	}
	comp, err := f.Compile(ctx, policy, c.compileOpts(dynamic)...)
	if err == nil && newPolicy {
		err = staticBroken(comp)
	}
	if err != nil {
		return inputErr(err)
	}
	c.reportBroken(c.compiled, comp)
	if u.dynamic != nil {
		c.countNewControlledLoad(c.compiled, comp)
	}
	c.install(f, comp, policy)
	c.dynamic = dynamic
	if u.rev != 0 && u.rev != c.storeRev {
		c.storeRev = u.rev
		if c.revChanged != nil {
			close(c.revChanged)
			c.revChanged = nil
		}
	}
	// Recorded before the switches start converging on it, so that whoever
	// sees the new state also sees the reload.
	c.recordReload(strings.Join(what, "+"), nil)
	c.daemon.SetIntent(comp.Intents)
	return nil
}

// install makes a fabric and its compiled policy the running ones. Called
// with mu held; the caller sets the daemon's intent.
func (c *Controller) install(f *Fabric, comp *Compiled, policy []byte) {
	c.fabric, c.compiled, c.policy = f, comp, policy
	c.setWindow(comp)
	if c.loop != nil {
		c.loop.SetModel(f.model(comp, c.status.setResult))
	}
}

// linkChange is one link liveness verdict: the link went down or came back.
type linkChange struct {
	link string
	down bool
}

// setLinksDown takes links out of the compiled topology (down) or puts them
// back, in order, recompiles the running policy once for all of them and
// makes it the intent; the topology file is not touched. The daemon then
// reconciles only the switches whose intent changed. A recompilation that
// fails keeps the running intent; with several changes it is retried one
// change at a time, so that one link whose loss the topology check refuses
// does not hold back the others. Each change is reported as its own event,
// with the error of the recompilation that carried it.
func (c *Controller) setLinksDown(ctx context.Context, changes []linkChange) {
	err := c.recompileLinks(ctx, changes)
	if err != nil && len(changes) > 1 && ctx.Err() == nil {
		for _, ch := range changes {
			c.setLinksDown(ctx, []linkChange{ch})
		}
		return
	}
	for _, ch := range changes {
		kind := LinkUp
		if ch.down {
			kind = LinkDown
		}
		if err != nil {
			c.log.Error("link liveness: recompiling failed; keeping the running intent", "link", ch.link, "down", ch.down, "err", err)
		} else {
			c.log.Warn("link liveness", "link", ch.link, "down", ch.down, "recompiled_with", len(changes)-1)
		}
		c.emit(Event{Kind: kind, What: ch.link, Err: err})
	}
}

func (c *Controller) recompileLinks(ctx context.Context, changes []linkChange) (err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error recompiling for %d link change(s) (please report this): %v", len(changes), r)
		}
	}()
	failed := maps.Clone(c.fabric.failed)
	if failed == nil {
		failed = map[string]bool{}
	}
	for _, ch := range changes {
		if ch.down {
			failed[ch.link] = true
		} else {
			delete(failed, ch.link)
		}
	}
	f, err := c.fabric.withFailed(failed)
	if err != nil {
		return err
	}
	comp, err := f.Compile(ctx, c.policy, c.compileOpts(c.dynamic)...)
	if err != nil {
		return err
	}
	c.reportBroken(c.compiled, comp)
	c.install(f, comp, c.policy)
	c.daemon.UpdateIntent(comp.Intents)
	return nil
}

func (c *Controller) recordReload(what string, err error) {
	if err != nil {
		c.metrics.PolicyLoads.WithLabelValues("rejected").Inc()
		c.log.Error("new "+what+" rejected; keeping the running intent", "policy", c.cfg.Policy, "topology", c.cfg.Topology, "errors", err.Error())
		c.emit(Event{Kind: ReloadRejected, What: what, Err: err})
		return
	}
	c.metrics.PolicyLoads.WithLabelValues("ok").Inc()
	var down []string
	for _, lk := range c.fabric.topology.Links {
		if lk.Down {
			down = append(down, lk.Name())
		}
	}
	c.log.Info(what+" reloaded", "policy", c.cfg.Policy, "topology", c.cfg.Topology, "links_down", down)
	c.emit(Event{Kind: ReloadAccepted, What: what})
}

// Tick runs one closed-loop iteration at time now (with WithManualLoop).
func (c *Controller) Tick(ctx context.Context, now time.Time) (controlplane.TickResult, error) {
	res, err := c.daemon.LoopTick(ctx, now)
	c.onTick(res, err)
	c.afterRound(ctx, now, res)
	return res, err
}

// Compiled is the running intent.
func (c *Controller) Compiled() *Compiled {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.compiled
}

// Fabric is the running fabric.
func (c *Controller) Fabric() *Fabric {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fabric
}

// Daemon is the per-switch daemon (installed state, session states).
func (c *Controller) Daemon() *controlplane.Daemon { return c.daemon }

// Metrics is the controller's metrics registry.
func (c *Controller) Metrics() *controlplane.Metrics { return c.metrics }
