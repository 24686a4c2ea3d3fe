package allocator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/units"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

// ParseProblem reads a problem in YAML or JSON. A valid problem is decoded
// directly (decodeJSON, decodeYAML); input either is unsure of, errors
// included, is read through yaml.v3 (JSON as YAML), so one parser reports
// every error with its line. name is used in
// error messages only. Rates are numbers (bits/s) or strings with units
// ("10Gbps"); unknown keys are errors. The problem is validated; the error
// is a *ValidationError naming each offending item.
//
// The format:
//
//	mode: split            # or preferred; default split
//	objective: maxmin      # or alpha-fair, with alpha: 0..50; default maxmin
//	links:
//	  - {name: s1-s2, capacity: 10Gbps}
//	flow_groups:
//	  - name: fg1
//	    demand: 15Gbps                                 # optional
//	    function: [[0, 0], [2, 10Gbps], [4, 15Gbps]]   # or weight: 3
//	    paths:
//	      - {links: [s1-s2, s2-s3], weight: 1}
//	    children: [{name: a, weight: 1}, {name: b, function: [[0,0],[1,2Gbps]], demand: 1Gbps}]
//
// At most inputfile.Problem.Limit() bytes are read from r, YAML or JSON; a
// larger input is a *ValidationError. Above YAMLLimit only the fast
// decoders read it (see YAMLLimit). Parsing stops collecting issues after
// yamlerr.MaxErrors.
func ParseProblem(r io.Reader, name string) (*Problem, error) {
	data, err := inputfile.ReadFrom(r, name, inputfile.Problem)
	if errors.Is(err, inputfile.ErrTooLarge) {
		return nil, &ValidationError{File: name, Issues: []Issue{{Msg: err.Error()}}}
	}
	if err != nil {
		return nil, fmt.Errorf("read problem: %w", err)
	}
	// Valid input takes a fast path: decodeJSON for input that starts with
	// '{', decodeYAML for the rest. Anything it is unsure of is read again
	// by parseYAML, so errors keep their lines (all of them) — up to
	// YAMLLimit; above it, where a node tree would cost too much memory,
	// the fast path's first problem is reported with line and column.
	decode, strict := decodeYAML, "a YAML problem over %d MB is read by the fast reader only: "+
		"block or flow mappings and lists of known keys, once each, one-line plain or quoted scalars without escapes, "+
		"numbers or rates with units, no anchors, aliases, tags, tabs or multi-line scalars"
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		decode, strict = decodeJSON, "a JSON problem over %d MB is read as strict JSON only: "+
			"known keys, once each, strings without escapes, numbers or rates with units"
	}
	p, at := decode(data)
	if p != nil {
		p.file = name
		err := p.Validate()
		if err == nil || len(data) > YAMLLimit {
			return p, err
		}
	} else if len(data) > YAMLLimit {
		line, col := lineCol(data, at)
		near := "the end of the input"
		if at < len(data) {
			near = yamlerr.Quote(excerpt(data, at))
		}
		return nil, &ValidationError{File: name, Issues: []Issue{{Line: line, Msg: fmt.Sprintf(
			"column %d: not a valid problem here (near %s); "+strict+" (split it, or fix this one)",
			col, near, YAMLLimit/inputfile.MB)}}}
	}
	return parseYAML(data, name)
}

// YAMLLimit is the largest problem ParseProblem reads through yaml.v3's
// node tree (parseYAML), and so the largest whose errors it reports the
// YAML way, every problem with its line: the node tree costs up to ~80
// bytes per byte of input. Larger problems, YAML or JSON up to
// inputfile.Problem's limit, are read by the fast decoders only (decodeYAML,
// decodeJSON), and an input they refuse gets its first problem with line
// and column.
const YAMLLimit = 2 * inputfile.MB

// lineCol converts a byte offset to a 1-based line and column.
func lineCol(data []byte, at int) (line, col int) {
	at = min(max(at, 0), len(data))
	line = 1 + bytes.Count(data[:at], []byte{'\n'})
	col = at - bytes.LastIndexByte(data[:at], '\n')
	return line, col
}

// excerpt returns up to 24 bytes of data from at, for an error message.
func excerpt(data []byte, at int) string {
	at = min(max(at, 0), len(data))
	return string(data[at:min(len(data), at+24)])
}

// parseYAML is ParseProblem's general path: YAML, and JSON read as YAML.
func parseYAML(data []byte, name string) (*Problem, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		// JSON allows tabs as whitespace and YAML does not; outside strings
		// (where JSON forbids raw tabs anyway) a space means the same.
		data = bytes.ReplaceAll(data, []byte{'\t'}, []byte{' '})
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ValidationError{File: name, Issues: []Issue{{Msg: "not valid YAML or JSON: " + strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &ValidationError{File: name, Issues: []Issue{{Msg: "empty problem"}}}
	}
	ps := &parser{p: &Problem{root: doc.Content[0], file: name}}
	ps.problem(doc.Content[0])
	if len(ps.issues) > 0 {
		// In file order, which is not the order the parser visits keys in.
		slices.SortStableFunc(ps.issues, func(a, b Issue) int { return a.Line - b.Line })
		return nil, &ValidationError{File: name, Issues: ps.issues}
	}
	if err := ps.p.Validate(); err != nil {
		return nil, err
	}
	// The node tree was kept for the line numbers of validation errors;
	// a valid problem no longer needs it.
	ps.p.root = nil
	return ps.p, nil
}

type parser struct {
	p      *Problem
	issues []Issue
}

// An item names what an error is about, e.g. `flow_groups[2] "fg3": path 0`.
// It is built only when there is an error: parsing 100k FGs should not
// format 100k names.
type item func() string

func fixed(s string) item { return func() string { return s } }

func (ps *parser) fail(n *yaml.Node, it item, format string, args ...any) {
	if full(ps.issues) {
		return
	}
	ps.issues = addIssue(ps.issues, Issue{Line: n.Line, Item: it(), Msg: fmt.Sprintf(format, args...)})
}

// addIssue appends is to issues up to yamlerr.MaxErrors, then one issue
// saying more were found, then nothing: a hostile problem can have an issue
// per byte, and listing them all costs memory and prints megabytes.
func addIssue(issues []Issue, is Issue) []Issue {
	switch {
	case len(issues) < yamlerr.MaxErrors:
		return append(issues, is)
	case len(issues) == yamlerr.MaxErrors:
		return append(issues, Issue{Msg: fmt.Sprintf("more than %d issues: only the first %d are listed", yamlerr.MaxErrors, yamlerr.MaxErrors)})
	}
	return issues
}

// full reports whether no more issues are kept, so that callers can skip
// formatting them.
func full(issues []Issue) bool { return len(issues) > yamlerr.MaxErrors }

// fields checks that n is a mapping with only the allowed keys and returns
// the values in the order of allowed (nil where absent).
func (ps *parser) fields(n *yaml.Node, it item, allowed ...string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		ps.fail(n, it, "want a mapping, got %s", kindName(n))
		return nil, false
	}
	out := make([]*yaml.Node, len(allowed))
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		j := slices.Index(allowed, k.Value)
		switch {
		case j < 0:
			ps.fail(k, it, "unknown key %s%s (allowed: %s)", yamlerr.Quote(k.Value), yamlerr.Suggest(k.Value, allowed), strings.Join(allowed, ", "))
		case out[j] != nil:
			ps.fail(k, it, "duplicate key %s", yamlerr.Quote(k.Value))
		default:
			out[j] = deref(v)
		}
	}
	return out, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return yamlerr.Quote(n.Value)
	}
	return "nothing"
}

// peekName returns the scalar value of a mapping's "name" key, so that
// errors about the other keys can already name the item.
func peekName(n *yaml.Node) string {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := deref(n.Content[i+1]); n.Content[i].Value == "name" && v.Kind == yaml.ScalarNode {
			return v.Value
		}
	}
	return ""
}

// seq returns the elements of a list (aliases followed); null is empty.
func (ps *parser) seq(n *yaml.Node, it item, what string) []*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		if n.Tag == "!!null" {
			return nil
		}
		ps.fail(n, it, "%s: want a list, got %s", what, kindName(n))
		return nil
	}
	for i, c := range n.Content {
		if c.Kind == yaml.AliasNode {
			n.Content[i] = deref(c)
		}
	}
	return n.Content
}

// deref follows a YAML alias (*name) to its anchor's node.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func (ps *parser) str(n *yaml.Node, it item, what string) string {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		ps.fail(n, it, "%s: want a string, got %s", what, kindName(n))
		return ""
	}
	return n.Value
}

// number reads a plain number (a share or a path weight).
func (ps *parser) number(n *yaml.Node, it item, what string) float64 {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		if v, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64); err == nil {
			return v
		}
	}
	ps.fail(n, it, "%s: want a number, got %s", what, kindName(n))
	return 0
}

// rate reads a bitrate: a number of bits/s or a string with units.
func (ps *parser) rate(n *yaml.Node, it item, what string) float64 {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		if n.Tag == "!!int" || n.Tag == "!!float" {
			if v, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return v
			}
		}
		v, err := units.ParseBitrate(n.Value)
		if err == nil {
			return v
		}
		ps.fail(n, it, "%s: %v", what, err)
		return 0
	}
	ps.fail(n, it, "%s: want a rate such as 10Gbps or a number of bits/s, got %s", what, kindName(n))
	return 0
}

func (ps *parser) problem(n *yaml.Node) {
	f, ok := ps.fields(n, fixed("problem"), "mode", "links", "flow_groups", "objective", "alpha")
	if !ok {
		return
	}
	if m := f[0]; m != nil {
		ps.p.Mode = Mode(ps.str(m, fixed("mode"), "mode"))
	}
	if m := f[3]; m != nil {
		ps.p.Objective = Objective(ps.str(m, fixed("objective"), "objective"))
	}
	if m := f[4]; m != nil {
		a := ps.number(m, fixed("alpha"), "alpha")
		ps.p.Alpha = &a
	}
	if ls := f[1]; ls != nil {
		lns := ps.seq(ls, fixed("problem"), "links")
		ps.p.Links = make([]Link, len(lns))
		for i, ln := range lns {
			l := &ps.p.Links[i]
			l.Name = peekName(ln)
			it := func() string { return linkItem(i, l.Name) }
			lf, ok := ps.fields(ln, it, "name", "capacity")
			if !ok {
				continue
			}
			if v := lf[0]; v != nil {
				l.Name = ps.str(v, it, "name")
			}
			if v := lf[1]; v != nil {
				l.Capacity = ps.rate(v, it, "capacity")
			} else {
				ps.fail(ln, it, "missing capacity")
			}
		}
	}
	if fgs := f[2]; fgs != nil {
		fns := ps.seq(fgs, fixed("problem"), "flow_groups")
		ps.p.FlowGroups = make([]FlowGroup, len(fns))
		for i, fn := range fns {
			ps.flowGroup(fn, i, &ps.p.FlowGroups[i])
		}
	}
}

func (ps *parser) flowGroup(n *yaml.Node, i int, fg *FlowGroup) {
	fg.Name = peekName(n)
	it := func() string { return fgItem(i, fg.Name) }
	f, ok := ps.fields(n, it, "name", "demand", "function", "weight", "paths", "children")
	if !ok {
		return
	}
	if v := f[0]; v != nil {
		fg.Name = ps.str(v, it, "name")
	}
	fg.Demand = ps.demand(f[1], it)
	fg.Function = ps.function(f[2], f[3], it)
	if v := f[4]; v != nil {
		pns := ps.seq(v, it, "paths")
		fg.Paths = make([]Path, len(pns))
		for j, pn := range pns {
			pa := &fg.Paths[j]
			pa.Weight = 1
			pit := func() string { return pathItem(i, fg.Name, j) }
			pf, ok := ps.fields(pn, pit, "links", "weight")
			if !ok {
				continue
			}
			if ln := pf[0]; ln != nil {
				lns := ps.seq(ln, pit, "links")
				pa.Links = make([]string, len(lns))
				for k, l := range lns {
					pa.Links[k] = ps.str(l, pit, "link")
				}
			}
			if w := pf[1]; w != nil {
				pa.Weight = ps.number(w, pit, "weight")
			}
		}
	}
	if v := f[5]; v != nil {
		fg.Children = ps.children(v, it)
	}
}

func (ps *parser) children(n *yaml.Node, parent item) []Child {
	cns := ps.seq(n, parent, "children")
	out := make([]Child, len(cns))
	for i, cn := range cns {
		c := &out[i]
		c.Name = peekName(cn)
		it := func() string {
			if c.Name == "" {
				return fmt.Sprintf("%s: children[%d]", parent(), i)
			}
			return fmt.Sprintf("%s: children[%d] %s", parent(), i, yamlerr.Quote(c.Name))
		}
		f, ok := ps.fields(cn, it, "name", "demand", "function", "weight", "children")
		if !ok {
			continue
		}
		if v := f[0]; v != nil {
			c.Name = ps.str(v, it, "name")
		}
		c.Demand = ps.demand(f[1], it)
		c.Function = ps.function(f[2], f[3], it)
		if v := f[4]; v != nil {
			c.Children = ps.children(v, it)
		}
	}
	return out
}

func (ps *parser) demand(v *yaml.Node, it item) *float64 {
	if v == nil || v.Tag == "!!null" {
		return nil
	}
	d := ps.rate(v, it, "demand")
	return &d
}

func (ps *parser) function(fn, w *yaml.Node, it item) BandwidthFunction {
	var bf BandwidthFunction
	if w != nil {
		// A weight is a slope: bits/s per unit of fair share, so "1Gbps"
		// reads naturally; a bare number is bits/s too.
		bf.Weight = ps.rate(w, it, "weight")
		if bf.Weight <= 0 {
			ps.fail(w, it, "weight must be > 0, got %v", bf.Weight)
		}
	}
	if fn == nil {
		return bf
	}
	pts := ps.seq(fn, it, "function")
	if fn.Kind == yaml.SequenceNode && len(pts) == 0 {
		ps.fail(fn, it, "function has no points")
	}
	bf.Points = make([]Point, 0, len(pts))
	for i, pt := range pts {
		if pt.Kind != yaml.SequenceNode || len(pt.Content) != 2 {
			ps.fail(pt, it, "function point %d: want [share, rate], got %s", i, kindName(pt))
			continue
		}
		bf.Points = append(bf.Points, Point{
			Share: ps.number(pt.Content[0], it, "function point share"),
			Rate:  ps.rate(pt.Content[1], it, "function point rate"),
		})
	}
	if len(bf.Points) == 0 {
		bf.Points = nil
	}
	return bf
}

// lineOf returns the source line of the item at loc (e.g.
// "flow_groups[2].paths[0].links[1]"), or of the deepest enclosing item
// that exists (a missing key has no line, its mapping does).
func lineOf(root *yaml.Node, loc string) int {
	if root == nil {
		return 0
	}
	n, line := deref(root), root.Line
	for _, tok := range strings.Split(loc, ".") {
		key, idx := tok, -1
		if b := strings.IndexByte(tok, '['); b >= 0 && strings.HasSuffix(tok, "]") {
			key = tok[:b]
			v, err := strconv.Atoi(tok[b+1 : len(tok)-1])
			if err != nil {
				return line
			}
			idx = v
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = deref(n.Content[i+1])
				break
			}
		}
		if next == nil {
			return line
		}
		n, line = next, next.Line
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = deref(n.Content[idx])
			line = n.Line
		}
	}
	return line
}

// LoadProblem reads the problem at path, or standard input for "-",
// through inputfile's bounded reader: a directory, FIFO or device, or a
// file above the limit, is a *ValidationError with a message (invalid
// input), not a read error, a hang or an out-of-memory death.
func LoadProblem(path string, stdin io.Reader) (*Problem, error) {
	data, err := inputfile.ReadArg(path, stdin, inputfile.Problem)
	if err != nil {
		// The reader's message names the file already.
		return nil, &ValidationError{Issues: []Issue{{Msg: err.Error()}}}
	}
	name := path
	if path == inputfile.Stdin {
		name = "<stdin>"
	}
	return ParseProblem(bytes.NewReader(data), yamlerr.Path(name))
}
