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
	af := r.AlphaFair
	if af != nil {
		fmt.Fprintf(&buf, "objective alpha-fair, α = %g: utility %.9g, duality gap %.3g (relative %.3g), %d Newton steps\n",
			af.Alpha, af.Utility, af.Gap, af.RelGap, af.NewtonSteps)
		fmt.Fprintf(&buf, "(prices and marginal utilities in units of rate %s and fair share %.6g)\n\n",
			units.FormatBitrate(af.RateScale), af.ShareScale)
	}
	t := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	mu, pad := "", ""
	if af != nil {
		mu, pad = "\tMARGINAL UTILITY", "\t"
	}
	fmt.Fprintf(t, "FLOW GROUP\tRATE\tFAIR SHARE%s\tSTATE\n", mu)
	for _, fg := range r.FlowGroups {
		state := "blocked by " + fg.Bottleneck
		if fg.Satisfied {
			state = "satisfied"
		}
		if fg.MarginalUtility != nil {
			mu = "\t" + fmtPrice(*fg.MarginalUtility)
		}
		fmt.Fprintf(t, "%s\t%s\t%s%s\t%s\n", fg.Name, units.FormatBitrate(fg.Rate), fmtShare(fg.FairShare), mu, state)
		if len(fg.Paths) > 1 || len(fg.Children) > 0 {
			for _, pa := range fg.Paths {
				fmt.Fprintf(t, "  path %s\t%s\t%s\t\n", strings.Join(pa.Links, ">"), units.FormatBitrate(pa.Rate), pad)
			}
		}
		writeChildRows(t, fg.Children, "  ", pad)
	}
	// Links in a table of their own (a blank line would not end
	// tabwriter's column blocks).
	if err := t.Flush(); err != nil {
		return err
	}
	buf.WriteString("\n")
	t = tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	price := ""
	if af != nil {
		price = "\tPRICE"
	}
	fmt.Fprintf(t, "LINK\tLOAD\tCAPACITY%s\tUTILISATION\n", price)
	for _, l := range r.Links {
		util := "-"
		if l.Capacity > 0 {
			util = fmt.Sprintf("%.1f%%", 100*l.Load/l.Capacity)
		}
		if l.Saturated {
			util += " saturated"
		}
		if l.Price != nil {
			price = "\t" + fmtPrice(*l.Price)
		}
		fmt.Fprintf(t, "%s\t%s\t%s%s\t%s\n", l.Name, units.FormatBitrate(l.Load), units.FormatBitrate(l.Capacity), price, util)
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

func writeChildRows(t io.Writer, cs []ChildResult, indent, pad string) {
	for _, c := range cs {
		fmt.Fprintf(t, "%schild %s\t%s\t%s%s\t\n", indent, c.Name, units.FormatBitrate(c.Rate), fmtShare(c.FairShare), pad)
		writeChildRows(t, c.Children, indent+"  ", pad)
	}
}

// fmtPrice prints a price or marginal utility with four significant
// digits.
func fmtPrice(v float64) string { return fmt.Sprintf("%.4g", v) }

// fmtShare prints a fair share with six significant digits ("inf" when
// the parent's rate satisfied every child).
func fmtShare(f float64) string {
	if math.IsInf(f, 1) {
		return "inf"
	}
	return fmt.Sprintf("%.6g", f)
}
