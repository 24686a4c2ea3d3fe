package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/controller"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/tables"
)

// Exit statuses of diff besides 0 (in sync) and 2 (usage).
const (
	DiffDiffers      = 1
	DiffUnreachable  = 3
	pipelineSame     = "same"
	pipelineOther    = "different"
	pipelineNotThere = "none"
)

// DiffOutput is `p4qos diff -o json`.
type DiffOutput struct {
	InSync bool `json:"in_sync"`
	// Intent says what the switches were compared with: "files" (the
	// policy and its state file's reservations) or, in cluster mode,
	// "intent store revision N".
	Intent   string       `json:"intent"`
	Switches []SwitchDiff `json:"switches"`
}

// SwitchDiff compares one switch with its intent.
type SwitchDiff struct {
	Switch
	InSync bool `json:"in_sync"`
	// Pipeline is same, different or none: the running pipeline's cookie
	// against the intended pipeline's.
	Pipeline string `json:"pipeline,omitempty"`
	// Intended counts the intent's entities.
	Intended int `json:"intended"`
	// Missing are in the intent and not on the switch (or, for meters and
	// default entries, which always exist, not configured as intended);
	// Extra are on the switch and not in the intent; Differing are on
	// both with another configuration.
	Missing   []Entity `json:"missing"`
	Extra     []Entity `json:"extra"`
	Differing []Change `json:"differing"`
}

// Change is an entity the switch holds differently from the intent.
type Change struct {
	Switch Entity `json:"switch"`
	Intent Entity `json:"intent"`
}

func runDiff(ctx context.Context, in IO) error {
	o, err := optionsFrom(in.Flags)
	if err != nil {
		return err
	}
	if o.Config == "" && (o.Topology == "" || o.Policy == "") {
		return usagef("diff compares with the compiled intent: give -c p4qos.yaml, or -t topo.yaml and -p policy.yaml")
	}
	res, err := resolve(o)
	if err != nil {
		return err
	}
	run, err := controller.RunningIntent(ctx, res.cfg)
	if errors.Is(err, controller.ErrIntentStore) {
		return &StatusError{Code: DiffUnreachable, Err: err}
	}
	if err != nil {
		return usage(err)
	}
	fab := res.fabric
	if run.Topology != nil {
		if fab, err = fab.Reload(run.Topology); err != nil {
			return usage(err)
		}
	}
	compiled, err := fab.Compile(ctx, run.Policy, controller.WithDynamicReservations(run.Reservations))
	if err != nil {
		return usage(err)
	}
	out := DiffOutput{InSync: true, Intent: run.From}
	var failed, differ []string
	for _, t := range res.targets {
		sw := SwitchDiff{Switch: t.id(), Missing: []Entity{}, Extra: []Entity{}, Differing: []Change{}}
		if err := diffOne(ctx, t, o, res, compiled.Intents[t.Name], &sw); err != nil {
			sw.Error = err.Error()
			failed = append(failed, t.Name)
		} else if !sw.InSync {
			differ = append(differ, t.Name)
		}
		out.InSync = out.InSync && sw.InSync
		out.Switches = append(out.Switches, sw)
	}
	if o.Output == "json" {
		err = writeJSON(in.Stdout, out)
	} else {
		renderDiff(in.Stdout, out)
	}
	switch {
	case err != nil:
		return err
	case len(failed) > 0:
		return &StatusError{Code: DiffUnreachable, Err: fmt.Errorf("could not compare %s", strings.Join(failed, ", "))}
	case len(differ) > 0:
		return &StatusError{Code: DiffDiffers, Err: fmt.Errorf("%s %s from the intent", strings.Join(differ, ", "), plural(len(differ), "differs", "differ"))}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// diffOne compares one switch with its intent through the reconciler's own
// read-and-diff (controlplane.Session.Compare), classifying the plan.
func diffOne(ctx context.Context, t Target, o Options, res *resolved, in *controlplane.Intent, sw *SwitchDiff) error {
	if in == nil {
		return fmt.Errorf("no intent for switch %s", t.Name)
	}
	sw.Intended = len(in.Entities)
	r, err := open(ctx, t, o.Timeout, res.opts)
	if err != nil {
		return err
	}
	defer r.close()
	switch {
	case !r.running:
		sw.Pipeline = pipelineNotThere
		for _, e := range in.Entities {
			sw.Missing = append(sw.Missing, r.dec.entity(e))
		}
		return nil
	case in.Pipeline != nil && r.cookie != in.Pipeline.Cookie:
		sw.Pipeline = pipelineOther
	default:
		sw.Pipeline = pipelineSame
	}
	current, plan, err := r.sess.Compare(ctx, in)
	if err != nil {
		return r.explain(err)
	}
	return classify(in.Schema, r.dec, current, in.Entities, plan, sw)
}

// classify sorts a reconcile plan into missing, extra and differing
// entities: an INSERT is missing, a DELETE extra; a MODIFY of an entity
// the intent holds is differing when the switch holds it too (missing
// when it is a meter or default entry the switch holds unconfigured), and
// a MODIFY of one the intent lacks resets something extra.
func classify(s *tables.Schema, dec decoder, current, intent []*p4v1.Entity, plan tables.Plan, sw *SwitchDiff) error {
	cur := map[string]*p4v1.Entity{}
	for _, e := range current {
		if k, err := s.Key(e); err == nil {
			cur[k] = e
		}
	}
	want := map[string]bool{}
	for _, e := range intent {
		if k, err := s.Key(e); err == nil {
			want[k] = true
		}
	}
	for _, u := range plan.Updates() {
		e := u.GetEntity()
		k, err := s.Key(e)
		if err != nil {
			return err
		}
		switch {
		case u.GetType() == p4v1.Update_INSERT:
			sw.Missing = append(sw.Missing, dec.entity(e))
		case u.GetType() == p4v1.Update_DELETE:
			sw.Extra = append(sw.Extra, dec.entity(e))
		case !want[k]:
			sw.Extra = append(sw.Extra, dec.entity(cur[k]))
		case cur[k] == nil:
			sw.Missing = append(sw.Missing, dec.entity(e))
		default:
			sw.Differing = append(sw.Differing, Change{Switch: dec.entity(cur[k]), Intent: dec.entity(e)})
		}
	}
	sw.InSync = sw.Pipeline == pipelineSame && plan.Len() == 0
	return nil
}

func renderDiff(w io.Writer, out DiffOutput) {
	if out.Intent != "files" { // cluster mode: say which revision
		fmt.Fprintf(w, "compared with the %s\n", out.Intent)
	}
	for i, sw := range out.Switches {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprint(w, header(sw.Name, sw.Address, sw.DeviceID)+": ")
		switch {
		case sw.Error != "":
			fmt.Fprintf(w, "ERROR %s\n", sw.Error)
			continue
		case sw.InSync:
			fmt.Fprintf(w, "in sync (%d entities, pipeline %s)\n", sw.Intended, sw.Pipeline)
			continue
		}
		fmt.Fprintf(w, "DIFFERS: pipeline %s, %d missing, %d extra, %d differing (of %d intended)\n",
			sw.Pipeline, len(sw.Missing), len(sw.Extra), len(sw.Differing), sw.Intended)
		for _, e := range sw.Missing {
			fmt.Fprintf(w, "  missing    %s %s\n", e.Kind, e.Line())
		}
		for _, e := range sw.Extra {
			fmt.Fprintf(w, "  extra      %s %s\n", e.Kind, e.Line())
		}
		for _, c := range sw.Differing {
			fmt.Fprintf(w, "  differing  %s %s\n", c.Intent.Kind, entityKey(c.Switch))
			fmt.Fprintf(w, "               switch: %s\n", dash(c.Switch.What()))
			fmt.Fprintf(w, "               intent: %s\n", dash(c.Intent.What()))
		}
	}
}

// key is the entity's identity without its configuration.
func entityKey(e Entity) string {
	k := Entity{Kind: e.Kind, Object: e.Object, Match: e.Match, Priority: e.Priority, Index: e.Index, Cell: e.Cell}
	switch {
	case e.Kind == "action_profile_member" && e.Member != nil:
		return fmt.Sprintf("%s member %d", k.Line(), *e.Member)
	case e.Kind == "action_profile_group" && e.Group != nil:
		return fmt.Sprintf("%s group %d", k.Line(), *e.Group)
	}
	return k.Line()
}
