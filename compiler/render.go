package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/tables"
)

// Render writes the compiled entities of the named switches: "json" (one
// object per switch with its entities in P4Runtime JSON), "text" (P4Runtime
// text format, one switch after the other) or "table" (for people: the
// classes, allocation and queue settings, then each switch's entities).
func Render(w io.Writer, s *tables.Schema, format string, res *Result, names []string) error {
	switch format {
	case "json":
		type sw struct {
			Name     string          `json:"name"`
			Entities json.RawMessage `json:"entities"`
		}
		out := struct {
			Switches []sw `json:"switches"`
		}{}
		for _, n := range names {
			var buf bytes.Buffer
			if err := s.FormatJSON(&buf, res.Switches[n]); err != nil {
				return err
			}
			out.Switches = append(out.Switches, sw{Name: n, Entities: bytes.TrimSpace(buf.Bytes())})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
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
		tw.row("FLOW GROUP", "RATE", "PATHS")
		for _, fg := range res.Allocation.FlowGroups {
			var ps []string
			for _, p := range fg.Paths {
				if p.Rate > 0 {
					ps = append(ps, units.FormatBitrate(p.Rate)+" via "+strings.Join(p.Links, " "))
				}
			}
			tw.row(fg.Name, units.FormatBitrate(fg.Rate), strings.Join(ps, "\n"))
		}
		tw.flushWrapped(TableWidth, 2)
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
	return map[string]string{"table": ".txt", "text": ".txtpb", "json": ".json"}[format]
}

// WriteFiles renders each named switch into its own file of dir (NAME plus
// OutputExt(format)), creating dir, and reports each file on w.
func WriteFiles(w io.Writer, dir string, s *tables.Schema, format string, res *Result, names []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	for _, n := range names {
		var buf bytes.Buffer
		if err := Render(&buf, s, format, res, []string{n}); err != nil {
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
