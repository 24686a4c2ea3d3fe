package compiler

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/tables"
)

// RenderOptions are what some formats need beyond the compiled result.
type RenderOptions struct {
	// P4Info and BMv2JSON are the paths runtime-json names (p4lang/tutorials'
	// simple_controller.py reads them relative to the runtime-json file).
	P4Info, BMv2JSON string
	// Warn receives what a format leaves out (runtime-json); nil: nothing.
	Warn io.Writer
}

// Render writes the compiled entities of the named switches: "json" (the
// classes, allocation and queue settings, then one object per switch with
// its entities in P4Runtime JSON and decoded by name), "text" (one
// p4.v1.WriteRequest per switch), "runtime-json" (p4lang/tutorials'
// sX-runtime.json, one switch only) or "table" (for people: the classes,
// allocation and queue settings, then each switch's entities).
func Render(w io.Writer, s *tables.Schema, format string, res *Result, names []string, opt RenderOptions) error {
	switch format {
	case "runtime-json":
		if len(names) != 1 {
			return fmt.Errorf("-o runtime-json is one file per switch (p4lang/tutorials' sX-runtime.json): choose one with --switch NAME, or write them all with --out DIR")
		}
		return renderRuntimeJSON(w, s, res, names[0], opt)
	case "json":
		return renderJSON(w, s, res, names)
	case "text":
		for i, n := range names {
			// What programming an empty switch takes: the same plan the
			// controller's reconciler makes, in dependency order, INSERT
			// for entries and MODIFY for meter cells and default actions.
			plan, err := tables.Diff(s, nil, res.Switches[n])
			if err != nil {
				return fmt.Errorf("switch %s: %w", n, err)
			}
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "# switch %s: one p4.v1.WriteRequest (%d updates) that programs it from empty.\n", n, plan.Len())
			if len(names) > 1 {
				fmt.Fprintln(w, "# Several switches follow one another here: load one (compile --switch, or --out DIR) at a time.")
			}
			if err := s.FormatWriteRequest(w, res.DeviceIDs[n], plan.Updates()); err != nil {
				return err
			}
		}
		return nil
	}
	if len(names) > 1 || len(res.Classes) > 0 {
		res.WriteSummary(w)
	}
	for _, n := range names {
		fmt.Fprintf(w, "\n# switch %s: %d entities\n", n, len(res.Switches[n]))
		writeEntityTable(w, s, res.Switches[n])
	}
	return nil
}

// WriteSummary prints the classes, the allocation and the queue settings,
// for people.
func (res *Result) WriteSummary(w io.Writer) {
	fmt.Fprintln(w, "# classes")
	tw := newColumns(w)
	tw.row("ID", "CLASS", "PHB", "DSCP", "QUEUE", "PRECEDENCE", "METER (CIR/PIR)", "SWITCHES")
	for _, c := range res.Classes {
		meter := "-"
		if c.Meter != nil {
			meter = units.FormatBitrate(float64(c.Meter.CIR)*8) + "/" + units.FormatBitrate(float64(c.Meter.PIR)*8)
		}
		phb := c.PHB
		if c.TrustDSCP {
			phb += " (trust)"
		}
		tw.row(fmt.Sprint(c.ID), c.Name, phb, fmt.Sprint(uint8(c.DSCP)), fmt.Sprint(c.Queue), fmt.Sprint(c.Precedence), meter, strings.Join(c.Switches, ", "))
	}
	tw.flushWrapped(TableWidth, 7)
	if res.Allocation != nil {
		fmt.Fprintln(w, "\n# allocation")
		tw := newColumns(w)
		tw.row("FLOW GROUP", "RATE", "STATE", "PATHS")
		for _, fg := range res.Allocation.FlowGroups {
			var ps []string
			for _, p := range fg.Paths {
				if p.Rate > 0 {
					ps = append(ps, units.FormatBitrate(p.Rate)+" via "+strings.Join(p.Links, " "))
				}
			}
			state := "satisfied"
			if !fg.Satisfied {
				state = "bottleneck\n" + fg.Bottleneck
			}
			tw.row(fg.Name, units.FormatBitrate(fg.Rate), state, strings.Join(ps, "\n"))
		}
		tw.flushWrapped(TableWidth, 3)
	}
	if len(res.QueueSettings) > 0 {
		fmt.Fprintln(w, "\n# queue settings (not P4Runtime; the controller applies them through each target's queue interface)")
		tw := newColumns(w)
		tw.row("SWITCH", "PORT", "QUEUE", "RATE", "DEPTH")
		for _, q := range res.QueueSettings {
			rate, depth := "-", "-"
			if q.Rate > 0 {
				rate = units.FormatBitrate(q.Rate)
			}
			if q.Depth > 0 {
				depth = fmt.Sprint(q.Depth)
			}
			tw.row(q.Switch, fmt.Sprint(q.Port), fmt.Sprint(q.Queue), rate, depth)
		}
		tw.flush()
	}
}

// columns aligns rows of cells with two spaces between columns.
type columns struct {
	w    io.Writer
	rows [][]string
}

func newColumns(w io.Writer) *columns { return &columns{w: w} }

func (c *columns) row(cells ...string) { c.rows = append(c.rows, cells) }

func (c *columns) flush() { c.flushWrapped(0) }

// OutputExt is the file extension of an output format of Render ("" for a
// format Render does not know).
func OutputExt(format string) string {
	return map[string]string{"table": ".txt", "text": ".txtpb", "json": ".json", "runtime-json": "-runtime.json"}[format]
}

// WriteFiles renders each named switch into its own file of dir (NAME plus
// OutputExt(format)), creating dir, and reports each file on w.
// For runtime-json, relative P4Info and BMv2 JSON paths in opt are made
// relative to dir, where simple_controller.py resolves them.
func WriteFiles(w io.Writer, dir string, s *tables.Schema, format string, res *Result, names []string, opt RenderOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	for _, n := range names {
		var buf bytes.Buffer
		if err := Render(&buf, s, format, res, []string{n}, relativeTo(dir, opt)); err != nil {
			return err
		}
		path := filepath.Join(dir, n+OutputExt(format))
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("output directory: %w", err)
		}
		fmt.Fprintf(w, "%s: %d entities\n", path, len(res.Switches[n]))
	}
	return nil
}

// relativeTo rewrites opt's relative paths to be relative to dir.
func relativeTo(dir string, opt RenderOptions) RenderOptions {
	for _, p := range []*string{&opt.P4Info, &opt.BMv2JSON} {
		if *p == "" || filepath.IsAbs(*p) {
			continue
		}
		absDir, err1 := filepath.Abs(dir)
		absP, err2 := filepath.Abs(*p)
		if err1 != nil || err2 != nil {
			continue
		}
		if r, err := filepath.Rel(absDir, absP); err == nil {
			*p = r
		}
	}
	return opt
}
