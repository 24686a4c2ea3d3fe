package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/controller/cluster"
	"github.com/p4qos/p4qos/controller/statusapi"
	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

// AdmittedReservation is a reservation of the running intent
// (docs/admission.md): a static one from the policy's reservations:
// section or a dynamic one admitted through the API.
type AdmittedReservation struct {
	admission.Reservation
	Static bool
	// Broken says why the reservation no longer passes admission on the
	// compiled topology (a link failure or topology change re-checked it);
	// empty while its promise holds. A broken reservation stays intent and
	// its policing stays installed (unless its hosts are gone), so that
	// restoring the link restores the promise; it is reported, not dropped.
	Broken string
	// invalid: the request no longer makes sense on the topology (a host
	// is gone), so it has nothing to install.
	invalid bool
}

// compileOpts are the options of every compilation of the running
// policy: the dynamic reservations, and the measured loads when the
// closed loop measures them.
func (c *Controller) compileOpts(dynamic []admission.Request) []CompileOption {
	opts := []CompileOption{WithDynamicReservations(dynamic)}
	if c.clLoad != nil {
		opts = append(opts, WithLoadMeasurements(c.clLoad))
	}
	return opts
}

// setWindow gives the controlled-load estimator the policy's window.
func (c *Controller) setWindow(comp *Compiled) {
	if c.clLoad != nil {
		c.clLoad.SetWindow(comp.ledger.Params().CLWindow)
	}
}

// admit runs admission for the static then the dynamic requests, in that
// order, on the fabric's compiled topology (failed links excluded): the
// ledger of what passed and every reservation with its state. A request
// that fails is broken, never silently dropped.
func (f *Fabric) admit(p admission.Params, static, dynamic []admission.Request) (*admission.Ledger, []AdmittedReservation) {
	l := admission.NewLedger(f.topology, p, nil)
	var out []AdmittedReservation
	for i, r := range append(append([]admission.Request(nil), static...), dynamic...) {
		ar := AdmittedReservation{Static: i < len(static)}
		a, err := l.Admit(r)
		if err != nil {
			var inv *admission.InvalidError
			ar.Reservation, ar.Broken, ar.invalid = admission.Reservation{ID: r.BaseID(), Request: r}, err.Error(), errors.As(err, &inv)
		} else {
			ar.Reservation = a.Reservation
		}
		out = append(out, ar)
	}
	// Later admissions may have raised earlier bounds: report the final ones.
	bound := map[string]admission.Reservation{}
	for _, r := range l.List() {
		bound[r.ID] = r
	}
	for i := range out {
		if r, ok := bound[out[i].ID]; ok && out[i].Broken == "" {
			out[i].Bound = r.Bound
		}
	}
	return l, out
}

// installable are the reservations whose policing can be compiled: all
// but those whose hosts are no longer in the topology.
func installable(rs []AdmittedReservation) []admission.Reservation {
	var out []admission.Reservation
	for _, r := range rs {
		if !r.invalid {
			out = append(out, r.Reservation)
		}
	}
	return out
}

// statePath is where the daemon keeps the dynamic reservations: next to
// the policy, policy.reservations.yaml for policy.yaml, in the format of a
// reservations: section (so `admit request --dry-run --reservations` reads
// it too).
func statePath(policy string) string {
	return strings.TrimSuffix(policy, filepath.Ext(policy)) + ".reservations.yaml"
}

// ErrIntentStore marks a failure to read the cluster's intent store (etcd
// unreachable or failing), as opposed to bad input.
var ErrIntentStore = errors.New("the intent store could not be read")

// Running is the intent a daemon of a config runs, as `p4qos diff`
// compares switches with it.
type Running struct {
	// Policy is the policy's content.
	Policy []byte
	// Topology is the topology's content in cluster mode (the stored
	// revision's); nil: the config's topology file.
	Topology []byte
	// Reservations are the dynamic reservations (admitted through the API).
	Reservations []admission.Request
	// From says where it was read: "files" or "intent store revision N".
	From string
}

// RunningIntent reads what a daemon of cfg runs. In cluster mode that is
// the intent store's current revision — its policy, topology and
// reservations — whatever the local files say (an empty store: the files,
// which seed it). Otherwise it is cfg's policy file with the reservations
// of its state file. Errors name the file or the store.
func RunningIntent(ctx context.Context, cfg Config) (Running, error) {
	if cfg.Cluster != "" {
		cli, err := ConnectCluster(&cfg)
		if err != nil {
			return Running{}, fmt.Errorf("cluster %s: %w", cfg.Cluster, err)
		}
		defer cli.Close()
		// An etcd that does not answer would block the read forever.
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		in, rev, err := GetIntent(rctx, cli)
		cancel()
		if err != nil {
			return Running{}, fmt.Errorf("cluster %s: reading the intent: %w: %w", cfg.Cluster, ErrIntentStore, err)
		}
		if rev != 0 {
			from := fmt.Sprintf("intent store revision %d", rev)
			dynamic, err := admission.ParseReservations(from+": reservations", in.Reservations)
			if err != nil {
				return Running{}, err
			}
			return Running{Policy: in.Policy, Topology: in.Topology, Reservations: dynamic, From: from}, nil
		}
	}
	policy, err := inputfile.Read(cfg.Policy, inputfile.Policy)
	if err != nil {
		return Running{}, err
	}
	dynamic, err := loadDynamic(statePath(cfg.Policy))
	if err != nil {
		return Running{}, err
	}
	return Running{Policy: policy, Reservations: dynamic, From: "files"}, nil
}

// loadDynamic reads the state file; a missing file is no reservations.
func loadDynamic(path string) ([]admission.Request, error) {
	data, err := inputfile.Read(path, inputfile.Policy)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return admission.ParseReservations(path, data)
}

// marshalDynamic is the state file's content: a reservations: section.
func marshalDynamic(rs []admission.Request) ([]byte, error) {
	f := struct {
		Reservations []*admission.Entry `yaml:"reservations"`
	}{Reservations: []*admission.Entry{}}
	for _, r := range rs {
		f.Reservations = append(f.Reservations, admission.EntryOf(r))
	}
	data, err := yaml.Marshal(&f)
	if err != nil {
		return nil, err
	}
	return append([]byte("# Dynamic admission-control reservations of the p4qos daemon (p4qos admit\n# request / release). Written by the daemon; do not edit while it runs.\n"), data...), nil
}

// saveDynamic writes the state file atomically (a crash leaves the old or
// the new file, never half of one).
func saveDynamic(path string, rs []admission.Request) error {
	data, err := marshalDynamic(rs)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".reservations-*.yaml")
	if err != nil {
		return fmt.Errorf("reservations state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("reservations state %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("reservations state %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("reservations state: %w", err)
	}
	return nil
}

// requestOf checks an API request with the reservations: section's rules
// (the JSON body is YAML; its keys are the section's).
func requestOf(req statusapi.ReservationRequest) (admission.Request, error) {
	body, err := json.Marshal(struct {
		R []statusapi.ReservationRequest `json:"reservations"`
	}{[]statusapi.ReservationRequest{req}})
	if err != nil {
		return admission.Request{}, err
	}
	rs, err := admission.ParseReservations("request", body)
	if err != nil {
		return admission.Request{}, err
	}
	return rs[0], nil
}

// requestReservation admits req against the running ledger; on admission
// the new set is persisted (the state file, or in cluster mode the intent
// store), compiled and made the intent, so that an answer "admitted" means
// it is recorded and being installed. A rejection changes nothing.
func (c *Controller) requestReservation(ctx context.Context, req statusapi.ReservationRequest) statusapi.Answer {
	r, err := requestOf(req)
	if err != nil {
		return statusapi.Answer{Outcome: statusapi.Invalid, Text: err.Error()}
	}
	c.mu.Lock()
	a, rev, refusal, done := c.admitLocked(ctx, r)
	c.mu.Unlock()
	if done {
		return refusal
	}
	if err := c.awaitRevision(ctx, rev); err != nil {
		return statusapi.Answer{Outcome: statusapi.Failed, ID: a.Reservation.ID, Text: err.Error()}
	}
	var text strings.Builder
	admission.Print(&text, a)
	c.log.Info("reservation admitted", "id", a.Reservation.ID, "src", r.Src, "dst", r.Dst, "bound", a.Bound)
	c.emit(Event{Kind: ReservationAdmitted, What: a.Reservation.ID})
	return statusapi.Answer{Outcome: statusapi.Admitted, ID: a.Reservation.ID, BoundSeconds: a.Bound.Seconds(), Text: text.String()}
}

// admitLocked checks r against the running ledger and commits the set
// with it; done with the answer when there is nothing to wait for
// (refused, or the commit failed). Called with mu held.
func (c *Controller) admitLocked(ctx context.Context, r admission.Request) (a *admission.Admission, rev int64, refusal statusapi.Answer, done bool) {
	a, err := c.compiled.ledger.Check(r)
	if err != nil {
		return nil, 0, c.refused(r, err), true
	}
	dynamic := append(append([]admission.Request(nil), c.dynamic...), r)
	rev, err = c.commitReservations(ctx, dynamic, "admit "+a.Reservation.ID)
	if err != nil {
		// The compiler refusing it (its ingress edge's reservation table
		// is full) is an answer about the request, like a rejection.
		var full *compiler.TableFullError
		if errors.As(err, &full) {
			return nil, 0, c.refused(r, &admission.Rejection{Reservation: a.Reservation.ID, Hop: full.Switch + " (ingress edge switch)", Resource: full.Table + " table",
				Need: fmt.Sprintf("%d entries", full.Need), Limit: fmt.Sprintf("%d entries (the size of table %s in the P4Info)", full.Size, full.Table),
				Detail: fmt.Sprintf("the reservations from hosts behind %s do not fit its %s table: nothing was installed", full.Switch, full.Table)}), true
		}
		var list yamlerr.List
		if errors.As(err, &list) {
			return nil, 0, statusapi.Answer{Outcome: statusapi.Rejected, Text: "REJECTED: the reservation cannot be installed: " + err.Error() + "\n"}, true
		}
		return nil, 0, statusapi.Answer{Outcome: statusapi.Failed, Text: err.Error()}, true
	}
	if a.Reservation.Service == admission.ControlledLoad && c.clLoad != nil && c.cluster == nil {
		// Not in the counters yet: counted until a window has measured it.
		// (In cluster mode every instance counts it when the stored
		// revision reaches it: countNewControlledLoad.)
		var hops []string
		for _, t := range a.CL {
			hops = append(hops, t.Hop)
		}
		c.clLoad.Admitted(hops, admission.ControlledLoad, a.Reservation.TSpec.Rate)
	}
	return a, rev, statusapi.Answer{}, false
}

// countNewControlledLoad tells the load estimator of the controlled-load
// reservations that cur has and old had not. In cluster mode a reservation
// reaches an instance through the intent store, whichever instance
// admitted it; counting it here, on every instance, means that the next
// primary after a failover also counts a flow admitted moments before,
// which its counters do not show yet. Called with mu held.
func (c *Controller) countNewControlledLoad(old, cur *Compiled) {
	if c.clLoad == nil || cur.ledger == nil {
		return
	}
	had := map[string]bool{}
	if old != nil {
		for _, r := range old.Reservations {
			had[r.ID] = true
		}
	}
	for _, r := range cur.Reservations {
		if r.Static || r.invalid || r.Service != admission.ControlledLoad || had[r.ID] {
			continue
		}
		if hops := cur.ledger.Hops(r.ID); len(hops) > 0 {
			c.clLoad.Admitted(hops, admission.ControlledLoad, r.TSpec.Rate)
		}
	}
}

// refused is the answer to a request refused by admission: rejected with
// the hop, resource and numbers, or invalid.
func (c *Controller) refused(r admission.Request, err error) statusapi.Answer {
	var text strings.Builder
	admission.PrintError(&text, err)
	outcome := statusapi.Rejected
	var inv *admission.InvalidError
	if errors.As(err, &inv) {
		outcome = statusapi.Invalid
	}
	c.log.Info("reservation rejected", "src", r.Src, "dst", r.Dst, "err", err)
	return statusapi.Answer{Outcome: outcome, Text: text.String()}
}

// releaseReservation removes a dynamic reservation; its entries leave the
// intent (the reconciler deletes them).
func (c *Controller) releaseReservation(ctx context.Context, id string) statusapi.Answer {
	c.mu.Lock()
	rev, a, done := c.releaseLocked(ctx, id)
	c.mu.Unlock()
	if done {
		return a
	}
	if err := c.awaitRevision(ctx, rev); err != nil {
		return statusapi.Answer{Outcome: statusapi.Failed, ID: id, Text: err.Error()}
	}
	c.log.Info("reservation released", "id", id)
	c.emit(Event{Kind: ReservationReleased, What: id})
	return statusapi.Answer{Outcome: statusapi.Released, ID: id, Text: "released " + id + "\n"}
}

// releaseLocked commits the set without id; done with the answer when
// there is nothing to wait for (not found, static, failed).
func (c *Controller) releaseLocked(ctx context.Context, id string) (rev int64, a statusapi.Answer, done bool) {
	for i, r := range c.compiled.Reservations {
		if r.ID != id {
			continue
		}
		if r.Static {
			return 0, statusapi.Answer{Outcome: statusapi.Invalid, ID: id, Text: fmt.Sprintf("%s is a static reservation of %s: remove it there", id, c.cfg.Policy)}, true
		}
		// Dynamic reservations follow the static ones in admission order.
		k := i - countStatic(c.compiled.Reservations)
		dynamic := append(append([]admission.Request(nil), c.dynamic[:k]...), c.dynamic[k+1:]...)
		rev, err := c.commitReservations(ctx, dynamic, "release "+id)
		if err != nil {
			return 0, statusapi.Answer{Outcome: statusapi.Failed, ID: id, Text: err.Error()}, true
		}
		return rev, statusapi.Answer{}, false
	}
	return 0, statusapi.Answer{Outcome: statusapi.NotFound, ID: id, Text: fmt.Sprintf("%s: %v\n", id, admission.ErrNotFound)}, true
}

// staticBroken refuses a policy whose own reservations do not pass
// admission: a new policy is input, and input that cannot be honoured is
// rejected whole (exit 2 at startup; the running intent stays on reload).
// Topology changes only report broken reservations (reportBroken).
func staticBroken(c *Compiled) error {
	var bad []string
	for _, r := range c.Reservations {
		if r.Static && r.Broken != "" {
			bad = append(bad, fmt.Sprintf("reservation %s (%s → %s): %s", r.ID, r.Src, r.Dst, r.Broken))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: %d static reservation(s) not admitted: %s", c.Policy.File(), len(bad), strings.Join(bad, "; "))
	}
	return nil
}

func countStatic(rs []AdmittedReservation) int {
	n := 0
	for _, r := range rs {
		if r.Static {
			n++
		}
	}
	return n
}

// commitReservations compiles the running policy with dynamic (a
// compilation that fails changes nothing), then persists dynamic and makes
// it the intent. Called with mu held. Outside cluster mode the state file
// is written and the intent set here (rev 0). In cluster mode the set is
// stored in the intent store as the next revision (compare-and-swap on the
// running one), and every instance, this one included, applies it from
// its watch: the caller waits for revision rev without mu.
func (c *Controller) commitReservations(ctx context.Context, dynamic []admission.Request, note string) (rev int64, err error) {
	comp, err := c.fabric.Compile(ctx, c.policy, c.compileOpts(dynamic)...)
	if err != nil {
		return 0, err
	}
	if c.cluster != nil {
		data, err := marshalDynamic(dynamic)
		if err != nil {
			return 0, err
		}
		rev, err := c.cluster.store.PutContent(ctx, cluster.Content{Policy: c.policy, Topology: c.fabric.topologyData, Reservations: data}, c.storeRev, note)
		if err != nil {
			return 0, fmt.Errorf("reservations: storing the intent after revision %d: %w", c.storeRev, err)
		}
		return rev, nil
	}
	if err := saveDynamic(statePath(c.cfg.Policy), dynamic); err != nil {
		return 0, err
	}
	c.dynamic = dynamic
	c.install(c.fabric, comp, c.policy)
	c.daemon.SetIntent(comp.Intents)
	return 0, nil
}

// awaitRevision waits until the running intent is the intent store's
// revision rev (cluster mode; rev 0: nothing to wait for).
func (c *Controller) awaitRevision(ctx context.Context, rev int64) error {
	if rev == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		c.mu.Lock()
		cur := c.storeRev
		if c.revChanged == nil {
			c.revChanged = make(chan struct{})
		}
		changed := c.revChanged
		c.mu.Unlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stored as intent revision %d, but this instance has not applied it yet (at %d): %w", rev, cur, ctx.Err())
		case <-changed:
		}
	}
}

// reportBroken logs and emits every reservation whose promise the new
// compilation broke (and those it restored), after a topology change.
func (c *Controller) reportBroken(old, cur *Compiled) {
	was := map[string]bool{}
	if old != nil {
		for _, r := range old.Reservations {
			was[r.ID] = r.Broken != ""
		}
	}
	for _, r := range cur.Reservations {
		switch {
		case r.Broken != "" && !was[r.ID]:
			c.log.Warn("reservation broken: its guarantee no longer holds on the current topology", "id", r.ID, "src", r.Src, "dst", r.Dst, "why", r.Broken)
			c.emit(Event{Kind: ReservationBroken, What: r.ID, Err: errors.New(r.Broken)})
		case r.Broken == "" && was[r.ID]:
			c.log.Info("reservation restored", "id", r.ID)
			c.emit(Event{Kind: ReservationRestored, What: r.ID})
		}
	}
}

func (src statusSource) Reservations() statusapi.ReservationList {
	comp := src.c.Compiled()
	l := statusapi.ReservationList{Reservations: []statusapi.Reservation{}}
	var rs []admission.Reservation
	for _, r := range comp.Reservations {
		l.Reservations = append(l.Reservations, statusapi.Reservation{ID: r.ID, Name: r.Name, Service: string(r.Service), Src: r.Src, Dst: r.Dst,
			RateBps: r.TSpec.Rate, Static: r.Static, BoundSeconds: r.Bound.Seconds(), Broken: r.Broken})
		rs = append(rs, r.Reservation)
	}
	var text strings.Builder
	admission.PrintList(&text, rs)
	for _, r := range comp.Reservations {
		if r.Broken != "" {
			fmt.Fprintf(&text, "BROKEN %s: %s\n", r.ID, r.Broken)
		}
	}
	l.Text = text.String()
	return l
}

func (src statusSource) RequestReservation(ctx context.Context, req statusapi.ReservationRequest) statusapi.Answer {
	return src.c.requestReservation(ctx, req)
}

func (src statusSource) ReleaseReservation(ctx context.Context, id string) statusapi.Answer {
	return src.c.releaseReservation(ctx, id)
}
