package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/p4qos/p4qos/tables"
)

// Daemon keeps many switches converged with the intent, one goroutine per
// switch, so an unreachable or failing switch never holds up the others.
type Daemon struct {
	switches []SwitchConfig
	cfg      daemonConfig

	mu  sync.Mutex
	gen uint64
	// swGen is, per switch, the gen at which its effective intent last
	// changed: a worker reconciles when it moves, so an intent that
	// leaves a switch's entities as they were costs that switch nothing.
	swGen    map[string]uint64
	base     map[string]*Intent
	overlay  map[string]map[string]*p4v1.Entity // loop-written entities by key
	eff      map[string]*effective
	changed  chan struct{}
	workers  map[string]*worker
	sessions map[string]*Session
	// elections are per-switch election ids set by SetElectionID (cluster
	// mode); a switch without one uses the sessions' option.
	elections map[string]election
}

type election struct {
	id      ElectionID
	standby bool
}

// effective is a switch's intent with the loop's overlay applied.
type effective struct {
	intent *Intent
	byKey  map[string]*p4v1.Entity
}

type worker struct {
	sw   SwitchConfig
	sess *Session
	rec  *Reconciler
	// observe counts the switch's Write RPCs (nil without metrics).
	observe func(int, error)
	// mu serialises writes to the switch between reconcile and the loop.
	mu sync.Mutex
}

type daemonConfig struct {
	sessionOpts       []SessionOption
	applyOpts         []ApplyOption
	reconcileInterval time.Duration
	retryMin          time.Duration
	retryMax          time.Duration
	loop              *Loop
	loopInterval      time.Duration
	metrics           *Metrics
	logger            *slog.Logger
	onReconcile       func(sw string, st ReconcileStats, err error)
	onTick            func(TickResult, error)
	shutdownGrace     time.Duration
	adopt             bool
	onState           func(sw string, st State)
}

// DaemonOption configures a Daemon.
type DaemonOption func(*daemonConfig)

// WithSessionOptions passes options to every switch session.
func WithSessionOptions(o ...SessionOption) DaemonOption {
	return func(c *daemonConfig) { c.sessionOpts = append(c.sessionOpts, o...) }
}

// WithApplyOptions passes options to every reconcile write (batch size).
func WithApplyOptions(o ...ApplyOption) DaemonOption {
	return func(c *daemonConfig) { c.applyOpts = append(c.applyOpts, o...) }
}

// WithReconcileInterval sets how often each switch is read back and
// repaired even without a change (default 30s; drift detection).
func WithReconcileInterval(d time.Duration) DaemonOption {
	return func(c *daemonConfig) { c.reconcileInterval = d }
}

// WithRetry sets the backoff bounds for retrying a failed reconcile.
func WithRetry(min, max time.Duration) DaemonOption {
	return func(c *daemonConfig) { c.retryMin, c.retryMax = min, max }
}

// WithClosedLoop runs loop every interval.
func WithClosedLoop(l *Loop, interval time.Duration) DaemonOption {
	return func(c *daemonConfig) { c.loop, c.loopInterval = l, interval }
}

// WithShutdownGrace bounds how long a write in flight may continue after
// Run's context ends (default 5s).
func WithShutdownGrace(d time.Duration) DaemonOption {
	return func(c *daemonConfig) { c.shutdownGrace = d }
}

// WithAdoptMeters makes a session that becomes primary (again) take the
// switch's configured meter cells of the intent as the closed loop's last
// written values before it reconciles, so a controller taking over from
// another continues the allocation instead of resetting meters to the
// policy's static rates (cluster failover, docs/controller.md "Cluster").
func WithAdoptMeters() DaemonOption { return func(c *daemonConfig) { c.adopt = true } }

// WithStateHook is called on every session state change (from the
// session's goroutines: it must not block).
func WithStateHook(f func(sw string, st State)) DaemonOption {
	return func(c *daemonConfig) { c.onState = f }
}

// WithMetrics records metrics.
func WithMetrics(m *Metrics) DaemonOption { return func(c *daemonConfig) { c.metrics = m } }

// WithDaemonLogger sets the logger.
func WithDaemonLogger(l *slog.Logger) DaemonOption { return func(c *daemonConfig) { c.logger = l } }

// WithReconcileHook is called after every reconcile (tests, status output).
func WithReconcileHook(f func(sw string, st ReconcileStats, err error)) DaemonOption {
	return func(c *daemonConfig) { c.onReconcile = f }
}

// WithTickHook is called after every closed-loop tick the daemon runs.
func WithTickHook(f func(TickResult, error)) DaemonOption {
	return func(c *daemonConfig) { c.onTick = f }
}

// NewDaemon creates a daemon for the switches. Names must be unique.
func NewDaemon(switches []SwitchConfig, opts ...DaemonOption) (*Daemon, error) {
	cfg := daemonConfig{
		reconcileInterval: 30 * time.Second,
		retryMin:          200 * time.Millisecond,
		retryMax:          DefaultBackoffMax,
		loopInterval:      time.Second,
		shutdownGrace:     5 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}

	if cfg.logger == nil {
		cfg.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	seen := map[string]bool{}
	for _, sw := range switches {
		if sw.Name == "" || sw.Address == "" {
			return nil, fmt.Errorf("switch %q: name and address are required", sw.Name)
		}
		if seen[sw.Name] {
			return nil, fmt.Errorf("switch %q listed twice", sw.Name)
		}
		seen[sw.Name] = true
	}
	return &Daemon{
		switches:  switches,
		cfg:       cfg,
		base:      map[string]*Intent{},
		overlay:   map[string]map[string]*p4v1.Entity{},
		eff:       map[string]*effective{},
		swGen:     map[string]uint64{},
		changed:   make(chan struct{}),
		workers:   map[string]*worker{},
		sessions:  map[string]*Session{},
		elections: map[string]election{},
	}, nil
}

// SetIntent replaces the intent of every switch (a switch missing from the
// map is left as it is). The loop's latest meter and WCMP values are kept
// for entities the new intent still has. Every worker reconciles promptly,
// whether its switch's intent changed or not (a reload also re-checks every
// switch).
func (d *Daemon) SetIntent(intents map[string]*Intent) { d.setIntent(intents, false) }

// UpdateIntent is SetIntent for a change known to touch few switches (a
// link that failed or came back): only the workers of the switches whose
// effective intent changed (SameIntent) reconcile promptly, the others
// keep their periodic passes, so that a link change in a large fabric does
// not cost a full read of every switch.
func (d *Daemon) UpdateIntent(intents map[string]*Intent) { d.setIntent(intents, true) }

func (d *Daemon) setIntent(intents map[string]*Intent, onlyChanged bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	d.base = intents
	for sw := range d.overlay {
		if intents[sw] == nil {
			delete(d.overlay, sw)
		}
	}
	for sw := range intents {
		old := d.eff[sw]
		d.rebuildLocked(sw, true)
		if !onlyChanged || old == nil || !SameIntent(old.intent, d.eff[sw].intent) {
			d.swGen[sw] = d.gen
		}
	}
	close(d.changed)
	d.changed = make(chan struct{})
}

// rebuildLocked recomputes a switch's effective intent. When pruning, it
// drops overlay entities whose key the base intent no longer has.
func (d *Daemon) rebuildLocked(sw string, prune bool) {
	in := d.base[sw]
	if in == nil {
		delete(d.eff, sw)
		return
	}
	byKey := make(map[string]*p4v1.Entity, len(in.Entities))
	order := make([]string, 0, len(in.Entities))
	for _, e := range in.Entities {
		k, err := in.Schema.Key(e)
		if err != nil {
			// Diff reports it when reconciling; keep the entity so it does.
			k = fmt.Sprintf("\x00invalid-%d", len(order))
		}
		if _, dup := byKey[k]; !dup {
			order = append(order, k)
		}
		byKey[k] = e
	}
	ov := d.overlay[sw]
	for k, e := range ov {
		if _, ok := byKey[k]; !ok && prune {
			delete(ov, k)
			continue
		}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = e
	}
	ents := make([]*p4v1.Entity, 0, len(order))
	for _, k := range order {
		ents = append(ents, byKey[k])
	}
	d.eff[sw] = &effective{intent: &Intent{Schema: in.Schema, Pipeline: in.Pipeline, Entities: ents, Side: in.Side}, byKey: byKey}
}

func (d *Daemon) effectiveFor(sw string) (*Intent, uint64, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var in *Intent
	if e := d.eff[sw]; e != nil {
		in = e.intent
	}
	return in, d.swGen[sw], d.changed
}

// Run connects to every switch and keeps them converged until ctx ends,
// then closes the sessions. It returns nil on a clean shutdown.
//
// A switch that keeps refusing this controller's election id (another live
// controller uses it, ElectionConflictError) stops the daemon: Run returns
// that error, since two controllers with one credential must not both run.
func (d *Daemon) Run(ctx context.Context) error {
	if err := d.dialAll(); err != nil {
		return err
	}
	defer d.closeAll()
	ctx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	for _, sw := range d.switches {
		go watchFatal(ctx, d.workers[sw.Name].sess, stopRun)
	}
	// Writes run under opCtx, which outlives ctx by a grace period: a
	// shutdown lets a change in flight (and its undo) finish rather than
	// cutting it half-way.
	opCtx, opCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer opCancel()
	go func() {
		select {
		case <-ctx.Done():
		case <-opCtx.Done():
			return
		}
		t := time.NewTimer(d.cfg.shutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			opCancel()
		case <-opCtx.Done():
		}
	}()
	var wg sync.WaitGroup
	for _, sw := range d.switches {
		w := d.workers[sw.Name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.runWorker(ctx, opCtx, w)
		}()
	}
	if d.cfg.loop != nil && d.cfg.loopInterval > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.runLoop(ctx, opCtx)
		}()
	}
	wg.Wait()
	var conflict *ElectionConflictError
	if err := context.Cause(ctx); errors.As(err, &conflict) {
		return conflict
	}
	return nil
}

// watchFatal stops the run when the session gives up.
func watchFatal(ctx context.Context, s *Session, stop context.CancelCauseFunc) {
	for {
		st, changed := s.Watch()
		if st.Fatal != nil {
			stop(st.Fatal)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// reconcileSafely is rec.Reconcile with a panic turned into a terminal
// error: a bug met on one switch must not take the daemon, and the other
// switches, down with it.
func reconcileSafely(ctx context.Context, rec *Reconciler, in *Intent) (st ReconcileStats, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Terminal(fmt.Errorf("internal error while reconciling (please report this): %v", r))
		}
	}()
	return rec.Reconcile(ctx, in)
}

// Once reconciles every switch once (waiting up to ctx for each to accept
// this controller as primary) and returns the stats. Failures of single
// switches are joined into the error; the others are still reconciled.
func (d *Daemon) Once(ctx context.Context) (map[string]ReconcileStats, error) {
	if err := d.dialAll(); err != nil {
		return nil, err
	}
	defer d.closeAll()
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		stats = map[string]ReconcileStats{}
		errs  []error
	)
	for _, sw := range d.switches {
		w := d.workers[sw.Name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, _, _ := d.effectiveFor(sw.Name)
			if in == nil {
				return
			}
			st, err := func() (ReconcileStats, error) {
				if err := w.sess.WaitPrimary(ctx); err != nil {
					return ReconcileStats{}, err
				}
				w.mu.Lock()
				defer w.mu.Unlock()
				return reconcileSafely(ctx, w.rec, in)
			}()
			d.record(sw.Name, st, err)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			stats[sw.Name] = st
		}()
	}
	wg.Wait()
	return stats, errors.Join(errs...)
}

func (d *Daemon) dialAll() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, sw := range d.switches {
		m, name, hook := d.cfg.metrics, sw.Name, d.cfg.onState
		opts := append([]SessionOption{WithLogger(d.cfg.logger), WithStateCallback(func(st State) {
			if hook != nil {
				hook(name, st)
			}
			if m != nil {
				m.Connected.WithLabelValues(name).Set(b2f(st.Connected))
				m.Primary.WithLabelValues(name).Set(b2f(st.Primary))
			}
		})}, d.cfg.sessionOpts...)
		if e, ok := d.elections[sw.Name]; ok {
			opts = append(opts, WithElectionID(e.id))
		}
		s, err := Dial(sw, opts...)
		if err == nil && d.elections[sw.Name].standby {
			err = s.SetElectionID(d.elections[sw.Name].id, true)
		}
		if err != nil {
			for _, o := range d.sessions {
				_ = o.Close()
			}
			return err
		}
		if m != nil {
			m.Connected.WithLabelValues(name).Set(0)
			m.Primary.WithLabelValues(name).Set(0)
		}
		observe := m.observeWrite(name)
		applyOpts := append([]ApplyOption{WithWriteObserver(observe)}, d.cfg.applyOpts...)
		d.sessions[sw.Name] = s
		d.workers[sw.Name] = &worker{sw: sw, sess: s, rec: NewReconciler(s, applyOpts...), observe: observe}
	}
	return nil
}

// SetElectionID sets a switch's election id, and whether its session is a
// standby that never writes (cluster mode: a backup id, or the fencing id
// of its master). It applies to the running session at once and to
// sessions dialled later.
func (d *Daemon) SetElectionID(sw string, id ElectionID, standby bool) error {
	d.mu.Lock()
	d.elections[sw] = election{id: id, standby: standby}
	s := d.sessions[sw]
	d.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.SetElectionID(id, standby)
}

// adoptMeters takes the switch's configured meter cells that the intent
// has as the loop's last written values (WithAdoptMeters).
func (d *Daemon) adoptMeters(ctx context.Context, w *worker) error {
	d.mu.Lock()
	in := d.base[w.sw.Name]
	d.mu.Unlock()
	if in == nil || in.Schema == nil {
		return nil
	}
	var want []*p4v1.Entity
	for _, e := range in.Entities {
		if me := e.GetMeterEntry(); me != nil {
			want = append(want, tables.EntityOf(&p4v1.MeterEntry{MeterId: me.GetMeterId(), Index: me.GetIndex()}))
		}
	}
	if len(want) == 0 {
		return nil
	}
	got, err := w.sess.Read(ctx, want...)
	if isNoPipeline(err) {
		return nil // a fresh switch: nothing to continue
	}
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ov := d.overlay[w.sw.Name]
	if ov == nil {
		ov = map[string]*p4v1.Entity{}
		d.overlay[w.sw.Name] = ov
	}
	for _, e := range got {
		if e.GetMeterEntry().GetConfig() == nil {
			continue
		}
		if k, err := in.Schema.Key(e); err == nil {
			ov[k] = e
		}
	}
	d.rebuildLocked(w.sw.Name, true)
	return nil
}

// closeAll takes the sessions out under the lock and closes them after
// releasing it: Close waits for the session's goroutine, which may be
// inside a state callback of the daemon's owner that waits for a lock whose
// holder is itself waiting for d.mu (seen: the controller's mutex held
// across SetIntent while a session reported its state at shutdown).
func (d *Daemon) closeAll() {
	d.mu.Lock()
	sessions := d.sessions
	d.sessions = map[string]*Session{}
	d.mu.Unlock()
	for _, s := range sessions {
		_ = s.Close()
	}
}

// isCanceled reports whether err is a cancellation: the context's own, or
// a gRPC call's that the context ended.
func isCanceled(err error) bool {
	// status.Code finds a GRPCStatus through wrapping (rpcError has one).
	return errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (d *Daemon) record(sw string, st ReconcileStats, err error) {
	log := d.cfg.logger.With("switch", sw)
	if m := d.cfg.metrics; m != nil {
		result := "ok"
		switch {
		case err != nil && isCanceled(err):
			result = "interrupted"
		case err != nil:
			result = "error"
		}
		m.Reconciles.WithLabelValues(sw, result).Inc()
		m.Drift.WithLabelValues(sw).Add(float64(st.Drift))
		m.Undone.WithLabelValues(sw).Add(float64(st.Write.Undone))
		if st.Pushed {
			m.Pushes.WithLabelValues(sw).Inc()
		}
	}
	switch {
	case err != nil && isCanceled(err):
		// A pass its context cut short (the daemon stopping) did not fail:
		// at shutdown this was one ERROR line per switch.
		log.Debug("reconcile interrupted", "err", err)
	case err != nil:
		log.Error("reconcile failed", "err", err, "retryable", IsRetryable(err), "undone", st.Write.Undone)
	case st.Write.Updates > 0 || st.Pushed:
		log.Info("reconciled", "pushed_pipeline", st.Pushed, "read", st.Read, "inserts", st.Inserts,
			"modifies", st.Modifies, "deletes", st.Deletes, "drift", st.Drift, "rpcs", st.Write.RPCs)
	default:
		log.Debug("in sync", "read", st.Read)
	}
	if d.cfg.onReconcile != nil {
		d.cfg.onReconcile(sw, st, err)
	}
}

// runWorker keeps one switch converged: it reconciles when the intent
// changes, when a new stream is arbitrated (the switch may have restarted),
// every reconcile interval (drift), and after failures with backoff.
func (d *Daemon) runWorker(ctx, opCtx context.Context, w *worker) {
	var (
		doneGen, doneStream uint64
		doneTerm            uint64
		// Each switch's periodic passes start at a random phase of the
		// interval: started together, every worker's ticker would fire at
		// the same instant, and a fabric-wide burst of reads (a CPU spike
		// for the controller and the switches alike) would delay
		// everything else, link probes included, once an interval.
		phase = time.NewTimer(d.cfg.reconcileInterval/2 + time.Duration(rand.Int64N(int64(d.cfg.reconcileInterval))))
		// periodic starts when phase fires; until then its nil channel
		// never receives.
		periodic  *time.Ticker
		periodicC <-chan time.Time
		retry     *time.Timer
		retryC    <-chan time.Time
		delay     = d.cfg.retryMin
		due       bool
	)
	defer func() {
		phase.Stop()
		if periodic != nil {
			periodic.Stop()
		}
	}()
	for {
		st, sessChanged := w.sess.Watch()
		in, gen, intentChanged := d.effectiveFor(w.sw.Name)
		if st.Primary && in != nil && (due || gen != doneGen || st.Stream != doneStream || st.Term != doneTerm) {
			due = false
			if d.cfg.adopt && st.Term != doneTerm {
				if err := d.adoptMeters(opCtx, w); err != nil {
					d.cfg.logger.Warn("reading the meters to continue the allocation failed; the policy's rates apply", "switch", w.sw.Name, "err", err)
				}
				in, gen, intentChanged = d.effectiveFor(w.sw.Name)
			}
			doneTerm = st.Term
			w.mu.Lock()
			stats, err := reconcileSafely(opCtx, w.rec, in)
			w.mu.Unlock()
			if ctx.Err() != nil {
				if err != nil {
					d.record(w.sw.Name, stats, err)
				}
				return
			}
			d.record(w.sw.Name, stats, err)
			var te *TerminalError
			switch {
			case err == nil || errors.As(err, &te):
				// Success, or a failure only new input can fix.
				doneGen, doneStream, delay = gen, st.Stream, d.cfg.retryMin
			default:
				wait := time.Duration(rand.Int64N(int64(delay))) + delay/2
				if retry != nil {
					retry.Stop()
				}
				retry = time.NewTimer(wait)
				retryC = retry.C
				delay = min(delay*2, d.cfg.retryMax)
				// Leave doneGen as is, but do not spin: wait for the timer.
				doneGen, doneStream = gen, st.Stream
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-sessChanged:
		case <-intentChanged:
		case <-phase.C:
			periodic = time.NewTicker(d.cfg.reconcileInterval)
			periodicC = periodic.C
			due = true
		case <-periodicC:
			due = true
		case <-retryC:
			retryC = nil
			due = true
		}
	}
}

func (d *Daemon) runLoop(ctx, opCtx context.Context) {
	t := time.NewTicker(d.cfg.loopInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			res, err := d.tickSafely(opCtx, now)
			if err != nil && ctx.Err() == nil {
				d.cfg.logger.Warn("closed loop tick failed", "err", err)
			}
			if d.cfg.onTick != nil {
				d.cfg.onTick(res, err)
			}
		}
	}
}

// tickSafely is one loop tick with a panic turned into an error.
func (d *Daemon) tickSafely(ctx context.Context, now time.Time) (res TickResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in the closed loop (please report this): %v", r)
		}
	}()
	return d.cfg.loop.Tick(ctx, now, d)
}

// LoopTick runs one closed-loop iteration now (tests drive it by hand).
func (d *Daemon) LoopTick(ctx context.Context, now time.Time) (TickResult, error) {
	if d.cfg.loop == nil {
		return TickResult{}, errors.New("no closed loop configured")
	}
	return d.tickSafely(ctx, now)
}

// Schema implements LoopIO.
func (d *Daemon) Schema(sw string) *tables.Schema {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.eff[sw]; e != nil {
		return e.intent.Schema
	}
	return nil
}

// Installed implements LoopIO.
func (d *Daemon) Installed(sw, key string) *p4v1.Entity {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.eff[sw]; e != nil {
		return e.byKey[key]
	}
	return nil
}

// ReadCounter implements LoopIO with one wildcard counter read.
func (d *Daemon) ReadCounter(ctx context.Context, sw, counter string) ([]*p4v1.CounterEntry, error) {
	return d.readCounter(ctx, sw, counter, nil, true)
}

// ReadCounterCells reads the given cells of an indirect counter of a switch
// in one Read RPC (one entity per cell). Reading a few cells of a large
// counter this way costs a fraction of the wildcard read of ReadCounter:
// the controller's per-round metrics read 8 queue cells per used port of a
// 4,096-cell counter.
func (d *Daemon) ReadCounterCells(ctx context.Context, sw, counter string, indices []int64) ([]*p4v1.CounterEntry, error) {
	return d.readCounter(ctx, sw, counter, indices, false)
}

// readCounter reads the given cells, or every cell (all).
func (d *Daemon) readCounter(ctx context.Context, sw, counter string, indices []int64, all bool) ([]*p4v1.CounterEntry, error) {
	w, schema := d.worker(sw), d.Schema(sw)
	if w == nil || schema == nil {
		return nil, fmt.Errorf("switch %q: not managed", sw)
	}
	c, err := schema.Counter(counter)
	if err != nil {
		return nil, Terminal(err)
	}
	id := c.GetPreamble().GetId()
	req := []*p4v1.Entity{tables.EntityOf(&p4v1.CounterEntry{CounterId: id})}
	if !all {
		if len(indices) == 0 {
			return nil, nil
		}
		req = make([]*p4v1.Entity, len(indices))
		for i, idx := range indices {
			req[i] = tables.EntityOf(&p4v1.CounterEntry{CounterId: id, Index: &p4v1.Index{Index: idx}})
		}
	}
	ents, err := w.sess.Read(ctx, req...)
	if err != nil {
		return nil, err
	}
	out := make([]*p4v1.CounterEntry, 0, len(ents))
	for _, e := range ents {
		if ce := e.GetCounterEntry(); ce != nil {
			out = append(out, ce)
		}
	}
	return out, nil
}

// Write implements LoopIO: MODIFY (or INSERT for a new group) the changed
// entities in one phase, undone on partial failure, then record them in the
// switch's intent so reconciliation keeps them.
func (d *Daemon) Write(ctx context.Context, sw string, changed []*p4v1.Entity) error {
	w, schema := d.worker(sw), d.Schema(sw)
	if w == nil || schema == nil {
		return fmt.Errorf("switch %q: not managed", sw)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	phase := make(Phase, 0, len(changed))
	keys := make([]string, 0, len(changed))
	for _, e := range changed {
		k, err := schema.Key(e)
		if err != nil {
			return Terminal(err)
		}
		old := d.Installed(sw, k)
		typ := p4v1.Update_MODIFY
		if old == nil {
			if _, always := upsertAlwaysExists(e); !always {
				typ = p4v1.Update_INSERT
			} else {
				old = resetOf(e)
			}
		}
		phase = append(phase, Change{Update: &p4v1.Update{Type: typ, Entity: e}, Old: old})
		keys = append(keys, k)
	}
	opts := append([]ApplyOption{WithDescriber(schema.Describe), WithWriteObserver(w.observe)}, d.cfg.applyOpts...)
	if _, err := w.sess.Apply(ctx, []Phase{phase}, opts...); err != nil {
		return err
	}
	d.mu.Lock()
	ov := d.overlay[sw]
	if ov == nil {
		ov = map[string]*p4v1.Entity{}
		d.overlay[sw] = ov
	}
	for i, k := range keys {
		ov[k] = changed[i]
	}
	d.rebuildLocked(sw, false)
	in := d.eff[sw].intent
	d.mu.Unlock()
	// The switch holds exactly the new effective intent if it held the old.
	w.rec.advance(in)
	return nil
}

// Primary implements LoopIO.
func (d *Daemon) Primary(sw string) bool {
	w := d.worker(sw)
	return w != nil && w.sess.State().Primary
}

// SessionState returns the state of a switch's session (false when the
// switch is not managed or the daemon is not running).
func (d *Daemon) SessionState(sw string) (State, bool) {
	w := d.worker(sw)
	if w == nil {
		return State{}, false
	}
	return w.sess.State(), true
}

func (d *Daemon) worker(sw string) *worker {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.workers[sw]
}

func upsertAlwaysExists(e *p4v1.Entity) (string, bool) {
	switch e.GetEntity().(type) {
	case *p4v1.Entity_MeterEntry, *p4v1.Entity_DirectMeterEntry, *p4v1.Entity_CounterEntry, *p4v1.Entity_DirectCounterEntry:
		return "resource", true
	}
	if te := e.GetTableEntry(); te != nil && te.GetIsDefaultAction() {
		return "default", true
	}
	return "", false
}
