package allocator

import "github.com/p4qos/p4qos/internal/units"

// valueReader is what the fast decoders of ParseProblem (decodeJSON,
// decodeYAML) have in common: a cursor over one format that reads the next
// value as the kind the problem's layout expects there. Every method
// returns false when the input is not certainly that kind; the decoder then
// gives up and ParseProblem reads the same bytes through the YAML path. So
// the decoding of the problem's layout below is written once, and the two
// formats differ only in how they spell values.
//
// It is a struct that calls one of two concrete types, not an interface:
// through an interface call the compiler cannot see that the closures
// passed to object and array do not outlive the call, and moves each of
// them and what it captures to the heap — 80% more allocations per parse.
type valueReader struct {
	j *jsonDecoder // or
	y *yamlDecoder
}

// str reads a string (a name, a mode). null is not one.
func (r valueReader) str() (string, bool) {
	if r.j != nil {
		return r.j.str()
	}
	return r.y.str()
}

// number reads a plain number (a share, a path weight, alpha), converted as
// the YAML path converts it.
func (r valueReader) number() (float64, bool) {
	if r.j != nil {
		return r.j.number()
	}
	return r.y.number()
}

// rate reads a number of bits/s or a string with units.
func (r valueReader) rate() (float64, bool) {
	if r.j != nil {
		return r.j.rate()
	}
	return r.y.rate()
}

// null consumes a null and reports whether there was one; otherwise it
// consumes nothing.
func (r valueReader) null() bool {
	if r.j != nil {
		return r.j.null()
	}
	return r.y.null()
}

// object calls field for each key of a mapping; field returns false to give
// up. Duplicate keys are left to field (via seen masks).
func (r valueReader) object(field func(key string) bool) bool {
	if r.j != nil {
		return r.j.object(field)
	}
	return r.y.object(field)
}

// array calls elem for each element of a list.
func (r valueReader) array(elem func() bool) bool {
	if r.j != nil {
		return r.j.array(elem)
	}
	return r.y.array(elem)
}

// listLen is a capacity hint for the list of strings that comes next; it
// consumes nothing.
func (r valueReader) listLen() int {
	if r.j != nil {
		return r.j.listLen()
	}
	return r.y.listLen()
}

// maxFastDepth bounds the children recursion; deeper input takes the YAML
// path, whose nesting limits and messages apply.
const maxFastDepth = 64

// once marks bit in seen and reports whether it was clear: a duplicate key
// is an error the YAML path reports.
func once(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// decodeProblem reads a whole problem from r into p; false means r gave up
// (p is then partly filled and must be dropped).
func decodeProblem(r valueReader, p *Problem) bool {
	var seen uint8
	return r.object(func(k string) bool {
		switch k {
		case "mode":
			s, ok := r.str()
			p.Mode = Mode(s)
			return once(&seen, 1) && ok
		case "links":
			p.Links = []Link{} // present: non-nil, as the YAML path makes it
			return once(&seen, 2) && (r.null() || r.array(func() bool {
				var l Link
				var lseen uint8
				if !r.object(func(k string) bool {
					var ok bool
					switch k {
					case "name":
						l.Name, ok = r.str()
						return once(&lseen, 1) && ok
					case "capacity":
						l.Capacity, ok = r.rate()
						return once(&lseen, 2) && ok
					}
					return false
				}) || lseen&2 == 0 {
					return false
				}
				p.Links = append(p.Links, l)
				return true
			}))
		case "flow_groups":
			p.FlowGroups = []FlowGroup{}
			return once(&seen, 4) && (r.null() || r.array(func() bool {
				p.FlowGroups = append(p.FlowGroups, FlowGroup{})
				return decodeFlowGroup(r, &p.FlowGroups[len(p.FlowGroups)-1])
			}))
		case "objective":
			s, ok := r.str()
			p.Objective = Objective(s)
			return once(&seen, 8) && ok
		case "alpha":
			a, ok := r.number()
			p.Alpha = &a
			return once(&seen, 16) && ok
		}
		return false
	})
}

func decodeFlowGroup(r valueReader, fg *FlowGroup) bool {
	var seen uint8
	var ok bool
	return r.object(func(k string) bool {
		if known, ok := decodeShared(r, k, &seen, &fg.Name, &fg.Demand, &fg.Function); known {
			return ok
		}
		switch k {
		case "paths":
			fg.Paths = []Path{}
			return once(&seen, 16) && (r.null() || r.array(func() bool {
				pa := Path{Weight: 1}
				var pseen uint8
				if !r.object(func(k string) bool {
					switch k {
					case "links":
						// Sized up front: a path can be millions of links
						// long, and growing the slice by doubling would
						// leave each old copy behind as garbage.
						pa.Links = make([]string, 0, r.listLen())
						return once(&pseen, 1) && (r.null() || r.array(func() bool {
							s, ok := r.str()
							pa.Links = append(pa.Links, s)
							return ok
						}))
					case "weight":
						pa.Weight, ok = r.number()
						return once(&pseen, 2) && ok
					}
					return false
				}) {
					return false
				}
				fg.Paths = append(fg.Paths, pa)
				return true
			}))
		case "children":
			return once(&seen, 32) && decodeChildren(r, &fg.Children, 1)
		}
		return false
	})
}

func decodeChildren(r valueReader, out *[]Child, depth int) bool {
	if depth > maxFastDepth {
		return false
	}
	*out = []Child{} // present: non-nil, as the YAML path makes it
	if r.null() {
		return true
	}
	return r.array(func() bool {
		var c Child
		var seen uint8
		if !r.object(func(k string) bool {
			if known, ok := decodeShared(r, k, &seen, &c.Name, &c.Demand, &c.Function); known {
				return ok
			}
			switch k {
			case "children":
				return once(&seen, 16) && decodeChildren(r, &c.Children, depth+1)
			}
			return false
		}) {
			return false
		}
		*out = append(*out, c)
		return true
	})
}

// decodeShared reads the keys flow groups and children share; known is
// false for any other key. Their seen bits are 1, 2, 4 and 8.
func decodeShared(r valueReader, k string, seen *uint8, name *string, demand **float64, f *BandwidthFunction) (known, ok bool) {
	switch k {
	case "name":
		*name, ok = r.str()
		return true, once(seen, 1) && ok
	case "demand":
		if r.null() {
			*demand = nil
			return true, once(seen, 2)
		}
		v, ok := r.rate()
		*demand = &v
		return true, once(seen, 2) && ok
	case "function":
		return true, once(seen, 4) && decodePoints(r, f)
	case "weight":
		w, ok := r.rate()
		f.Weight = w
		return true, once(seen, 8) && ok && w > 0
	}
	return false, false
}

// decodePoints reads [[share, rate], ...]; an empty list is an error (the
// YAML path says "function has no points"), and so is null (the YAML path
// reads it as no function, a case left to it).
func decodePoints(r valueReader, f *BandwidthFunction) bool {
	ok := r.array(func() bool {
		var pt Point
		i := 0
		ok := r.array(func() bool {
			var ok bool
			switch i {
			case 0:
				pt.Share, ok = r.number()
			case 1:
				pt.Rate, ok = r.rate()
			}
			i++
			return ok
		})
		if !ok || i != 2 {
			return false
		}
		f.Points = append(f.Points, pt)
		return true
	})
	return ok && len(f.Points) > 0
}

// keyString returns a key as a string, without allocating one for the
// problem's own keys (a parse meets about ten per flow group).
func keyString(b []byte) string {
	switch string(b) {
	case "mode":
		return "mode"
	case "links":
		return "links"
	case "flow_groups":
		return "flow_groups"
	case "objective":
		return "objective"
	case "alpha":
		return "alpha"
	case "name":
		return "name"
	case "capacity":
		return "capacity"
	case "demand":
		return "demand"
	case "function":
		return "function"
	case "weight":
		return "weight"
	case "paths":
		return "paths"
	case "children":
		return "children"
	}
	return string(b)
}

// parseRate is the conversion both readers use for a rate spelled as a
// string.
func parseRate(s string) (float64, bool) {
	v, err := units.ParseBitrate(s)
	return v, err == nil
}
