package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

// What show can show.
var showWhat = []string{"entries", "counters", "meters", "groups", "pipeline"}

// ShowOutput is `p4qos show -o json`.
type ShowOutput struct {
	What     string       `json:"what"`
	Switches []SwitchShow `json:"switches"`
}

// SwitchShow is one switch's part: its entities, or its pipeline, or the
// error that kept it from being read.
type SwitchShow struct {
	Switch
	Entities []Entity  `json:"entities,omitempty"`
	Pipeline *Pipeline `json:"pipeline,omitempty"`
}

func runShow(ctx context.Context, in IO) error {
	what := in.Args[0]
	if !contains(showWhat, what) {
		return usagef("show %s: expected one of %s", yamlerr.Quote(what), strings.Join(showWhat, ", "))
	}
	table, _ := in.Flags.GetString(flagTable)
	if table != "" && what != "entries" {
		return usagef("--table goes with show entries")
	}
	o, err := optionsFrom(in.Flags)
	if err != nil {
		return err
	}
	res, err := resolve(o)
	if err != nil {
		return err
	}
	out := ShowOutput{What: what}
	var errs []error
	for _, t := range res.targets {
		sw := SwitchShow{Switch: t.id()}
		err := showOne(ctx, t, o, res, what, table, &sw)
		var u *UsageError
		if errors.As(err, &u) {
			return err
		}
		if err != nil {
			sw.Error = err.Error()
			errs = append(errs, err)
		}
		out.Switches = append(out.Switches, sw)
	}
	if o.Output == "json" {
		if err := writeJSON(in.Stdout, out); err != nil {
			return err
		}
	} else {
		renderShow(in.Stdout, out)
	}
	return errors.Join(errs...)
}

func showOne(ctx context.Context, t Target, o Options, res *resolved, what, table string, sw *SwitchShow) error {
	r, err := open(ctx, t, o.Timeout, res.opts)
	if err != nil {
		return err
	}
	defer r.close()
	if err := r.needPipeline(); err != nil {
		return err
	}
	if what == "pipeline" {
		sw.Pipeline, err = r.pipeline(ctx)
		return err
	}
	read := map[string]func(context.Context) ([]*p4v1.Entity, error){
		"entries":  func(ctx context.Context) ([]*p4v1.Entity, error) { return r.entries(ctx, table) },
		"counters": r.counters, "meters": r.meters, "groups": r.groups,
	}[what]
	es, err := read(ctx)
	if err != nil {
		return err
	}
	sw.Entities = make([]Entity, 0, len(es))
	for _, e := range es {
		sw.Entities = append(sw.Entities, r.dec.entity(e))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// writeJSON writes v indented, fields in declaration order: stable.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func renderShow(w io.Writer, out ShowOutput) {
	for i, sw := range out.Switches {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprint(w, header(sw.Name, sw.Address, sw.DeviceID))
		switch {
		case sw.Error != "":
			fmt.Fprintln(w, ": not read (the error follows)")
			continue
		case sw.Pipeline != nil:
			renderPipeline(w, sw.Pipeline)
			continue
		}
		fmt.Fprintf(w, ": %d %s\n", len(sw.Entities), noun(out.What, len(sw.Entities)))
		if len(sw.Entities) > 0 {
			renderEntities(w, out.What, sw.Entities)
		}
	}
}

func noun(what string, n int) string {
	s := map[string]string{"entries": "entries", "counters": "counter cells that counted", "meters": "configured meter cells", "groups": "members and groups"}[what]
	if n == 1 {
		s = map[string]string{"entries": "entry", "counters": "counter cell that counted", "meters": "configured meter cell", "groups": "member or group"}[what]
	}
	return s
}

func renderEntities(w io.Writer, what string, es []Entity) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	switch what {
	case "entries":
		fmt.Fprintln(tw, "TABLE\tMATCH\tPRIO\tACTION")
		for _, e := range es {
			match := make([]string, 0, len(e.Match))
			for _, m := range e.Match {
				match = append(match, m.Name+"="+m.Value)
			}
			key := strings.Join(match, " ")
			switch {
			case e.Kind == "default_entry":
				key = "(default)"
			case key == "":
				key = "(match all)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", short(e.Object), key, dashInt(int64(e.Priority)), dash(e.What()))
		}
	case "counters":
		fmt.Fprintln(tw, "COUNTER\tCELL\tPACKETS\tBYTES")
		for _, e := range es {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", short(e.Object), cell(e), e.Counter.Packets, units.FormatBytes(uint64(max(e.Counter.Bytes, 0))))
		}
	case "meters":
		fmt.Fprintln(tw, "METER\tCELL\tCIR\tCBURST\tPIR\tPBURST\tGREEN\tYELLOW\tRED")
		for _, e := range es {
			m := e.Meter
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", short(e.Object), cell(e), m.CIRText, m.Burst(m.CBurst), m.PIRText, m.Burst(m.PBurst),
				packets(m.Green), packets(m.Yellow), packets(m.Red))
		}
	case "groups":
		fmt.Fprintln(tw, "PROFILE\tKIND\tID\tACTION / MEMBERS")
		for _, e := range es {
			kind, id, detail := "member", e.Member, ""
			if e.Action != nil {
				detail = Entity{Action: e.Action}.What()
			}
			if e.Kind == "action_profile_group" {
				kind, id = "group", e.Group
				ms := make([]string, 0, len(e.Members))
				for _, m := range e.Members {
					ms = append(ms, fmt.Sprintf("%d×%d", m.Member, m.Weight))
				}
				detail = fmt.Sprintf("[%s] max_size=%d", strings.Join(ms, " "), e.MaxSize)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", short(e.Object), kind, *id, detail)
		}
	}
}

// header starts a switch's part of the output.
func header(name, addr string, device uint64) string {
	if name == addr {
		return fmt.Sprintf("# %s (device %d)", addr, device)
	}
	return fmt.Sprintf("# %s (%s, device %d)", name, addr, device)
}

func cell(e Entity) string {
	switch {
	case e.Cell != "":
		return e.Cell
	case e.Index != nil:
		return strconv.FormatInt(*e.Index, 10)
	}
	return "-"
}

func packets(c *Counter) string {
	if c == nil {
		return "-"
	}
	return strconv.FormatInt(c.Packets, 10)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dashInt(v int64) string {
	if v == 0 {
		return "-"
	}
	return strconv.FormatInt(v, 10)
}

func renderPipeline(w io.Writer, p *Pipeline) {
	same := "the same P4Info as the one used to decode"
	if !p.SameP4Info {
		same = "a P4Info DIFFERENT from the one used to decode (give the right one with --p4info)"
	}
	fmt.Fprintf(w, ": pipeline cookie %s, %s\n", p.Cookie, same)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "KIND\tNAME\tSIZE\tIN USE")
	for _, g := range []struct {
		kind string
		objs []Object
	}{{"table", p.Tables}, {"action profile", p.ActionProfiles}, {"meter", p.Meters}, {"counter", p.Counters}} {
		for _, o := range g.objs {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", g.kind, o.Name, o.Size, o.Used)
		}
	}
}
