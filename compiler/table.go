package compiler

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/tables"
)

// TableWidth is the width the table view (compile -o table) keeps to:
// wider keys and actions wrap onto continuation lines.
const TableWidth = 120

// writeEntityTable writes one row per entity, decoded by name (tables'
// Decode, as `p4qos show` prints them): the object's short name where no
// other P4Info object shares it, the key (full masks as plain values,
// contiguous address masks as prefixes, DSCP and protocol names), the
// priority and the action or meter configuration with units.
func writeEntityTable(w io.Writer, s *tables.Schema, es []*p4v1.Entity) {
	short := shortNames(s)
	tw := newColumns(w)
	tw.row("OBJECT", "KEY", "PRIO", "ACTION")
	for _, e := range es {
		d := s.Decode(e)
		prio := "-"
		if d.Priority != 0 {
			prio = strconv.Itoa(int(d.Priority))
		}
		key := entityKey(d)
		// A member's or group's What repeats its id, which is the key.
		what := strings.TrimPrefix(d.What(), key+" ")
		tw.row(short(d.Object), key, prio, dashIfEmpty(what))
	}
	tw.flushWrapped(TableWidth, 1, 3)
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// entityKey is what identifies the entity within its object.
func entityKey(d tables.Decoded) string {
	switch {
	case d.Kind == "default_entry":
		return "(default)"
	case d.Kind == "action_profile_member" && d.Member != nil:
		return "member " + strconv.FormatUint(uint64(*d.Member), 10)
	case d.Kind == "action_profile_group" && d.Group != nil:
		return "group " + strconv.FormatUint(uint64(*d.Group), 10)
	case d.Cell != "":
		return d.Cell
	case d.Index != nil:
		return "index " + strconv.FormatInt(*d.Index, 10)
	case len(d.Match) == 0:
		return "(match all)"
	}
	parts := make([]string, 0, len(d.Match))
	for _, m := range d.Match {
		parts = append(parts, m.Name+"="+m.Value)
	}
	return strings.Join(parts, " ")
}

// shortNames returns a function giving an object's last name component
// (classifier for QosIngress.classifier) where no other object of the
// P4Info ends the same way, else the full name.
func shortNames(s *tables.Schema) func(string) string {
	count := map[string]int{}
	for _, n := range s.Names() {
		count[tables.ShortName(n)]++
	}
	return func(name string) string {
		if sn := tables.ShortName(name); count[sn] == 1 {
			return sn
		}
		return name
	}
}

// flushWrapped prints the rows like flush, but within width columns: when
// the rows are wider, the columns named by index in wrap (the widest
// first) narrow, and their cells wrap at spaces onto continuation lines
// whose other cells are blank. A cell may also hold line breaks.
func (c *columns) flushWrapped(width int, wrap ...int) {
	var widths []int
	for _, r := range c.rows {
		for i, cell := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			for _, l := range strings.Split(cell, "\n") {
				widths[i] = max(widths[i], len([]rune(l)))
			}
		}
	}
	total := 2 * (len(widths) - 1)
	for _, w := range widths {
		total += w
	}
	if total > width && len(wrap) == 2 {
		c.split(widths, width-(total-widths[wrap[0]]-widths[wrap[1]]), wrap[0], wrap[1])
		total = width
	}
	// Shrink the widest wrapping column one at a time until it fits or
	// every wrapping column is down to minWrap.
	for total > width {
		widest := -1
		for _, i := range wrap {
			if i < len(widths) && widths[i] > minWrap && (widest < 0 || widths[i] > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		widths[widest]--
		total--
	}
	for _, r := range c.rows {
		cells := make([][]string, len(r))
		lines := 1
		for i, cell := range r {
			cells[i] = wrapText(cell, widths[i])
			lines = max(lines, len(cells[i]))
		}
		for l := 0; l < lines; l++ {
			var b strings.Builder
			for i := range r {
				cell := ""
				if l < len(cells[i]) {
					cell = cells[i][l]
				}
				b.WriteString(cell)
				if i < len(r)-1 {
					b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(cell))+2))
				}
			}
			fmt.Fprintln(c.w, strings.TrimRight(b.String(), " "))
		}
	}
	c.rows = nil
}

// wrapText breaks s into lines of at most w runes, at its line breaks and
// spaces; a word longer than w is cut.
func wrapText(s string, w int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			for len([]rune(word)) > w {
				if line != "" {
					out = append(out, line)
					line = ""
				}
				r := []rune(word)
				out = append(out, string(r[:w]))
				word = string(r[w:])
			}
			switch {
			case line == "":
				line = word
			case len([]rune(line))+1+len([]rune(word)) <= w:
				line += " " + word
			default:
				out = append(out, line)
				line = word
			}
		}
		out = append(out, line)
	}
	return out
}

// minWrap is the narrowest a wrapping column gets.
const minWrap = 16

// split shares budget columns between the wrapping columns a and b the way
// that prints the fewest lines (the first such, so a keeps the most).
func (c *columns) split(widths []int, budget, a, b int) {
	best, bestLines := -1, 0
	for wa := min(widths[a], budget-minWrap); wa >= minWrap; wa-- {
		wb := min(widths[b], budget-wa)
		if wb < minWrap {
			break
		}
		lines := 0
		for _, r := range c.rows {
			if a < len(r) && b < len(r) {
				lines += max(len(wrapText(r[a], wa)), len(wrapText(r[b], wb)))
			}
		}
		if best < 0 || lines < bestLines {
			best, bestLines = wa, lines
		}
	}
	if best >= 0 {
		widths[a], widths[b] = best, min(widths[b], budget-best)
	}
}
