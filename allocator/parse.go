package allocator

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/internal/units"
)

// ParseProblem reads a problem in YAML or JSON (JSON is read as YAML, so one
// parser serves both and every error can name its line). name is used in
// error messages only. Rates are numbers (bits/s) or strings with units
// ("10Gbps"); unknown keys are errors. The problem is validated; the error
// is a *ValidationError naming each offending item.
//
// The format:
//
//	mode: split            # or preferred; default split
//	links:
//	  - {name: s1-s2, capacity: 10Gbps}
//	flow_groups:
//	  - name: fg1
//	    demand: 15Gbps                                 # optional
//	    function: [[0, 0], [2, 10Gbps], [4, 15Gbps]]   # or weight: 3
//	    paths:
//	      - {links: [s1-s2, s2-s3], weight: 1}
//	    children: [{name: a, weight: 1}, {name: b, function: [[0,0],[1,2Gbps]], demand: 1Gbps}]
func ParseProblem(r io.Reader, name string) (*Problem, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read problem %s: %w", name, err)
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		// JSON allows tabs as whitespace and YAML does not; outside strings
		// (where JSON forbids raw tabs anyway) a space means the same.
		data = bytes.ReplaceAll(data, []byte{'\t'}, []byte{' '})
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ValidationError{File: name, Issues: []Issue{{Msg: "not valid YAML or JSON: " + strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	ps := &parser{p: &Problem{src: map[string]int{}, file: name}}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &ValidationError{File: name, Issues: []Issue{{Msg: "empty problem"}}}
	}
	ps.problem(doc.Content[0])
	if len(ps.issues) > 0 {
		return nil, &ValidationError{File: name, Issues: ps.issues}
	}
	if err := ps.p.Validate(); err != nil {
		return nil, err
	}
	return ps.p, nil
}

type parser struct {
	p      *Problem
	issues []Issue
}

func (ps *parser) fail(n *yaml.Node, item, format string, args ...any) {
	ps.issues = append(ps.issues, Issue{Line: n.Line, Item: item, Msg: fmt.Sprintf(format, args...)})
}

// fields checks that n is a mapping with only the allowed keys and returns
// the values by key.
func (ps *parser) fields(n *yaml.Node, item string, allowed ...string) (map[string]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		ps.fail(n, item, "want a mapping, got %s", kindName(n))
		return nil, false
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		ok := false
		for _, a := range allowed {
			if key == a {
				ok = true
				break
			}
		}
		switch {
		case !ok:
			ps.fail(k, item, "unknown key %q (allowed: %s)", key, strings.Join(allowed, ", "))
		case out[key] != nil:
			ps.fail(k, item, "duplicate key %q", key)
		default:
			out[key] = deref(v)
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
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

func (ps *parser) seq(n *yaml.Node, item string) []*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		if n.Tag == "!!null" {
			return nil
		}
		ps.fail(n, item, "want a list, got %s", kindName(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out
}

// deref follows a YAML alias (*name) to its anchor's node.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func (ps *parser) str(n *yaml.Node, item, what string) string {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		ps.fail(n, item, "%s: want a string, got %s", what, kindName(n))
		return ""
	}
	return n.Value
}

// number reads a plain number (a share or a weight).
func (ps *parser) number(n *yaml.Node, item, what string) float64 {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		if v, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64); err == nil {
			return v
		}
	}
	ps.fail(n, item, "%s: want a number, got %s", what, kindName(n))
	return 0
}

// rate reads a bitrate: a number of bits/s or a string with units.
func (ps *parser) rate(n *yaml.Node, item, what string) float64 {
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
		ps.fail(n, item, "%s: %v", what, err)
		return 0
	}
	ps.fail(n, item, "%s: want a rate such as 10Gbps or a number of bits/s, got %s", what, kindName(n))
	return 0
}

func (ps *parser) line(loc string, n *yaml.Node) { ps.p.src[loc] = n.Line }

func (ps *parser) problem(n *yaml.Node) {
	f, ok := ps.fields(n, "problem", "mode", "links", "flow_groups")
	if !ok {
		return
	}
	if m := f["mode"]; m != nil {
		ps.line("mode", m)
		ps.p.Mode = Mode(ps.str(m, "mode", "mode"))
	}
	if ls := f["links"]; ls != nil {
		for i, ln := range ps.seq(ls, "links") {
			loc := fmt.Sprintf("links[%d]", i)
			ps.line(loc, ln)
			lf, ok := ps.fields(ln, loc, "name", "capacity")
			if !ok {
				ps.p.Links = append(ps.p.Links, Link{})
				continue
			}
			var l Link
			if v := lf["name"]; v != nil {
				l.Name = ps.str(v, loc, "name")
			}
			item := fmt.Sprintf("links[%d] %q", i, l.Name)
			if v := lf["capacity"]; v != nil {
				ps.line(loc+".capacity", v)
				l.Capacity = ps.rate(v, item, "capacity")
			} else {
				ps.fail(ln, item, "missing capacity")
			}
			ps.p.Links = append(ps.p.Links, l)
		}
	}
	if fgs := f["flow_groups"]; fgs != nil {
		for i, fn := range ps.seq(fgs, "flow_groups") {
			ps.p.FlowGroups = append(ps.p.FlowGroups, ps.flowGroup(fn, i))
		}
	}
}

func (ps *parser) flowGroup(n *yaml.Node, i int) FlowGroup {
	loc := fmt.Sprintf("flow_groups[%d]", i)
	ps.line(loc, n)
	var fg FlowGroup
	f, ok := ps.fields(n, loc, "name", "demand", "function", "weight", "paths", "children")
	if !ok {
		return fg
	}
	if v := f["name"]; v != nil {
		fg.Name = ps.str(v, loc, "name")
	}
	item := fmt.Sprintf("flow_groups[%d] %q", i, fg.Name)
	fg.Demand = ps.demand(f, loc, item)
	fg.Function = ps.function(f, loc, item)
	if v := f["paths"]; v != nil {
		ps.line(loc+".paths", v)
		for j, pn := range ps.seq(v, item+": paths") {
			ploc := fmt.Sprintf("%s.paths[%d]", loc, j)
			pitem := fmt.Sprintf("%s: path %d", item, j)
			ps.line(ploc, pn)
			pf, ok := ps.fields(pn, pitem, "links", "weight")
			pa := Path{Weight: 1}
			if ok {
				if ln := pf["links"]; ln != nil {
					for k, l := range ps.seq(ln, pitem+": links") {
						ps.line(fmt.Sprintf("%s.links[%d]", ploc, k), l)
						pa.Links = append(pa.Links, ps.str(l, pitem, "link"))
					}
				}
				if w := pf["weight"]; w != nil {
					ps.line(ploc+".weight", w)
					pa.Weight = ps.number(w, pitem, "weight")
				}
			}
			fg.Paths = append(fg.Paths, pa)
		}
	}
	if v := f["children"]; v != nil {
		fg.Children = ps.children(v, loc, item)
	}
	return fg
}

func (ps *parser) children(n *yaml.Node, loc, item string) []Child {
	var out []Child
	for i, cn := range ps.seq(n, item+": children") {
		cloc := fmt.Sprintf("%s.children[%d]", loc, i)
		ps.line(cloc, cn)
		var c Child
		f, ok := ps.fields(cn, fmt.Sprintf("%s: children[%d]", item, i), "name", "demand", "function", "weight", "children")
		if ok {
			if v := f["name"]; v != nil {
				c.Name = ps.str(v, cloc, "name")
			}
			citem := fmt.Sprintf("%s: children[%d] %q", item, i, c.Name)
			c.Demand = ps.demand(f, cloc, citem)
			c.Function = ps.function(f, cloc, citem)
			if v := f["children"]; v != nil {
				c.Children = ps.children(v, cloc, citem)
			}
		}
		out = append(out, c)
	}
	return out
}

func (ps *parser) demand(f map[string]*yaml.Node, loc, item string) *float64 {
	v := f["demand"]
	if v == nil || v.Tag == "!!null" {
		return nil
	}
	ps.line(loc+".demand", v)
	d := ps.rate(v, item, "demand")
	return &d
}

func (ps *parser) function(f map[string]*yaml.Node, loc, item string) BandwidthFunction {
	var bf BandwidthFunction
	if w := f["weight"]; w != nil {
		ps.line(loc+".weight", w)
		// A weight is a slope: bits/s per unit of fair share, so "1Gbps"
		// reads naturally; a bare number is bits/s too.
		bf.Weight = ps.rate(w, item, "weight")
		if bf.Weight <= 0 {
			ps.fail(w, item, "weight must be > 0, got %v", bf.Weight)
		}
	}
	fn := f["function"]
	if fn == nil {
		return bf
	}
	ps.line(loc+".function", fn)
	pts := ps.seq(fn, item+": function")
	if fn.Kind == yaml.SequenceNode && len(pts) == 0 {
		ps.fail(fn, item, "function has no points")
	}
	for i, pt := range pts {
		ps.line(fmt.Sprintf("%s.function[%d]", loc, i), pt)
		if pt.Kind != yaml.SequenceNode || len(pt.Content) != 2 {
			ps.fail(pt, item, "function point %d: want [share, rate], got %s", i, kindName(pt))
			continue
		}
		bf.Points = append(bf.Points, Point{
			Share: ps.number(pt.Content[0], item, fmt.Sprintf("function point %d share", i)),
			Rate:  ps.rate(pt.Content[1], item, fmt.Sprintf("function point %d rate", i)),
		})
	}
	return bf
}
