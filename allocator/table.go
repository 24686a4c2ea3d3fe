package allocator

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/p4qos/p4qos/internal/units"
)

// WriteTable prints the result for people: the flow groups (rate, fair
// share, state, and per path and child rates where there are several),
// then the links with their load and utilisation.
func (r *Result) WriteTable(w io.Writer) error {
	var buf bytes.Buffer
	t := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	fmt.Fprintf(t, "FLOW GROUP\tRATE\tFAIR SHARE\tSTATE\n")
	for _, fg := range r.FlowGroups {
		state := "blocked by " + fg.Bottleneck
		if fg.Satisfied {
			state = "satisfied"
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", fg.Name, units.FormatBitrate(fg.Rate), fmtShare(fg.FairShare), state)
		if len(fg.Paths) > 1 || len(fg.Children) > 0 {
			for _, pa := range fg.Paths {
				fmt.Fprintf(t, "  path %s\t%s\t\t\n", strings.Join(pa.Links, ">"), units.FormatBitrate(pa.Rate))
			}
		}
		writeChildRows(t, fg.Children, "  ")
	}
	// Links in a table of their own (a blank line would not end
	// tabwriter's column blocks).
	if err := t.Flush(); err != nil {
		return err
	}
	buf.WriteString("\n")
	t = tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	fmt.Fprintf(t, "LINK\tLOAD\tCAPACITY\tUTILISATION\n")
	for _, l := range r.Links {
		util := "-"
		if l.Capacity > 0 {
			util = fmt.Sprintf("%.1f%%", 100*l.Load/l.Capacity)
		}
		if l.Saturated {
			util += " saturated"
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", l.Name, units.FormatBitrate(l.Load), units.FormatBitrate(l.Capacity), util)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	// Rows with empty trailing cells are padded; trim them.
	lines := strings.Split(buf.String(), "\n")
	for i, ln := range lines {
		lines[i] = strings.TrimRight(ln, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

func writeChildRows(t io.Writer, cs []ChildResult, indent string) {
	for _, c := range cs {
		fmt.Fprintf(t, "%schild %s\t%s\t%s\t\n", indent, c.Name, units.FormatBitrate(c.Rate), fmtShare(c.FairShare))
		writeChildRows(t, c.Children, indent+"  ")
	}
}

// fmtShare prints a fair share with six significant digits ("inf" when
// the parent's rate satisfied every child).
func fmtShare(f float64) string {
	if math.IsInf(f, 1) {
		return "inf"
	}
	return fmt.Sprintf("%.6g", f)
}
