package allocator

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
)

// WriteJSON writes r as `p4qos allocate -o json` prints it: byte for byte
// what encoding/json's Encoder with SetIndent("", "  ") writes for r (the
// field tags are the contract), but appended straight into a buffer that is
// flushed every 64 KiB. At 100k flow groups the reflective encoder and its
// indent pass were a large part of the command's time and memory.
// A NaN or infinite number is an error, as it is for encoding/json, and
// then nothing is written.
func (r *Result) WriteJSON(w io.Writer) error {
	// Check first, so that an error leaves nothing half-written.
	if err := r.checkFinite(); err != nil {
		return err
	}
	jw := &jsonWriter{w: w, buf: make([]byte, 0, 80<<10)}
	jw.raw("{\n  \"flow_groups\": ")
	if r.FlowGroups == nil {
		jw.raw("null")
	} else {
		jw.list(1, len(r.FlowGroups), func(i int) {
			fg := &r.FlowGroups[i]
			jw.raw("{\n")
			jw.key(3, "name")
			jw.str(fg.Name)
			jw.next(3, "rate")
			jw.num(fg.Rate)
			jw.next(3, "paths")
			if fg.Paths == nil {
				jw.raw("null")
			} else {
				jw.list(3, len(fg.Paths), func(j int) {
					pa := &fg.Paths[j]
					jw.raw("{\n")
					jw.key(5, "links")
					jw.strs(5, pa.Links)
					jw.next(5, "rate")
					jw.num(pa.Rate)
					jw.close(4, '}')
				})
			}
			jw.next(3, "children")
			jw.children(3, fg.Children)
			jw.optNum(3, "marginal_utility", fg.MarginalUtility)
			jw.optNum(3, "demand_price", fg.DemandPrice)
			jw.close(2, '}')
		})
	}
	jw.raw(",\n  \"links\": ")
	if r.Links == nil {
		jw.raw("null")
	} else {
		jw.list(1, len(r.Links), func(i int) {
			l := &r.Links[i]
			jw.raw("{\n")
			jw.key(3, "name")
			jw.str(l.Name)
			jw.next(3, "load")
			jw.num(l.Load)
			jw.next(3, "capacity")
			jw.num(l.Capacity)
			jw.optNum(3, "price", l.Price)
			jw.close(2, '}')
		})
	}
	if af := r.AlphaFair; af != nil {
		jw.raw(",\n  \"alpha_fair\": {\n")
		jw.key(2, "alpha")
		jw.num(af.Alpha)
		jw.next(2, "utility")
		jw.num(af.Utility)
		jw.next(2, "gap")
		jw.num(af.Gap)
		jw.next(2, "rel_gap")
		jw.num(af.RelGap)
		jw.next(2, "fg_gap")
		jw.num(af.FGGap)
		jw.next(2, "newton_steps")
		jw.buf = strconv.AppendInt(jw.buf, int64(af.NewtonSteps), 10)
		jw.next(2, "rate_scale")
		jw.num(af.RateScale)
		jw.next(2, "share_scale")
		jw.num(af.ShareScale)
		jw.close(1, '}')
	}
	jw.raw("\n}\n")
	return jw.flush()
}

func (r *Result) checkFinite() error {
	bad := func(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) }
	var children func(cs []ChildResult) float64
	children = func(cs []ChildResult) float64 {
		for _, c := range cs {
			if bad(c.Rate) {
				return c.Rate
			}
			if v := children(c.Children); v != 0 {
				return v
			}
		}
		return 0
	}
	for _, fg := range r.FlowGroups {
		v := children(fg.Children)
		if bad(fg.Rate) {
			v = fg.Rate
		}
		for _, pa := range fg.Paths {
			if bad(pa.Rate) {
				v = pa.Rate
			}
		}
		for _, q := range []*float64{fg.MarginalUtility, fg.DemandPrice} {
			if q != nil && bad(*q) {
				v = *q
			}
		}
		if v != 0 {
			return fmt.Errorf("json: unsupported value: %v (flow group %q)", v, fg.Name)
		}
	}
	for _, l := range r.Links {
		if bad(l.Load) || bad(l.Capacity) || (l.Price != nil && bad(*l.Price)) {
			return fmt.Errorf("json: unsupported value: link %q load %v capacity %v", l.Name, l.Load, l.Capacity)
		}
	}
	if af := r.AlphaFair; af != nil {
		for _, v := range []float64{af.Alpha, af.Utility, af.Gap, af.RelGap, af.FGGap, af.RateScale, af.ShareScale} {
			if bad(v) {
				return fmt.Errorf("json: unsupported value: %v (alpha_fair)", v)
			}
		}
	}
	return nil
}

type jsonWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (jw *jsonWriter) raw(s string) { jw.buf = append(jw.buf, s...) }

func (jw *jsonWriter) indent(depth int) {
	jw.buf = append(jw.buf, '\n')
	for i := 0; i < depth; i++ {
		jw.buf = append(jw.buf, "  "...)
	}
}

// key writes the indented first key of an object; next the following ones.
func (jw *jsonWriter) key(depth int, k string) {
	for i := 0; i < depth; i++ {
		jw.buf = append(jw.buf, "  "...)
	}
	jw.buf = append(jw.buf, '"')
	jw.buf = append(jw.buf, k...)
	jw.buf = append(jw.buf, "\": "...)
}

func (jw *jsonWriter) next(depth int, k string) {
	jw.buf = append(jw.buf, ",\n"...)
	jw.key(depth, k)
}

// optNum writes the key and number of an omitempty pointer field.
func (jw *jsonWriter) optNum(depth int, k string, v *float64) {
	if v != nil {
		jw.next(depth, k)
		jw.num(*v)
	}
}

// close ends an object or list whose closing bracket sits at depth.
func (jw *jsonWriter) close(depth int, c byte) {
	jw.indent(depth)
	jw.buf = append(jw.buf, c)
}

// list writes a non-nil list of n elements whose opening bracket is at
// depth; elem writes element i (starting at its own first byte).
func (jw *jsonWriter) list(depth, n int, elem func(i int)) {
	if n == 0 {
		jw.raw("[]")
		return
	}
	jw.buf = append(jw.buf, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			jw.buf = append(jw.buf, ',')
		}
		jw.indent(depth + 1)
		elem(i)
		if len(jw.buf) >= 64<<10 {
			jw.flushSome()
		}
	}
	jw.close(depth, ']')
}

func (jw *jsonWriter) strs(depth int, ss []string) {
	if ss == nil {
		jw.raw("null")
		return
	}
	jw.list(depth, len(ss), func(i int) { jw.str(ss[i]) })
}

func (jw *jsonWriter) children(depth int, cs []ChildResult) {
	if cs == nil {
		jw.raw("null")
		return
	}
	jw.list(depth, len(cs), func(i int) {
		c := &cs[i]
		jw.raw("{\n")
		jw.key(depth+2, "name")
		jw.str(c.Name)
		jw.next(depth+2, "rate")
		jw.num(c.Rate)
		jw.next(depth+2, "children")
		jw.children(depth+2, c.Children)
		jw.close(depth+1, '}')
	})
}

// str appends s quoted. Plain ASCII (the names people give) is copied; any
// other string goes through encoding/json, whose escaping (HTML characters,
// U+2028, invalid UTF-8) is the contract.
func (jw *jsonWriter) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always marshals
			jw.buf = append(jw.buf, b...)
			return
		}
	}
	jw.buf = append(jw.buf, '"')
	jw.buf = append(jw.buf, s...)
	jw.buf = append(jw.buf, '"')
}

// num appends f as encoding/json does (its floatEncoder, 64-bit); f is
// finite (checkFinite).
func (jw *jsonWriter) num(f float64) {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	jw.buf = strconv.AppendFloat(jw.buf, f, format, -1, 64)
	if format == 'e' {
		// "e-07" → "e-7", as encoding/json writes it.
		if n := len(jw.buf); n >= 4 && jw.buf[n-4] == 'e' && jw.buf[n-3] == '-' && jw.buf[n-2] == '0' {
			jw.buf[n-2] = jw.buf[n-1]
			jw.buf = jw.buf[:n-1]
		}
	}
}

// flushSome writes the buffer out; an error is kept and reported at the end
// (later writes are dropped).
func (jw *jsonWriter) flushSome() {
	if jw.err == nil {
		_, jw.err = jw.w.Write(jw.buf)
	}
	jw.buf = jw.buf[:0]
}

func (jw *jsonWriter) flush() error {
	if jw.err != nil {
		return jw.err
	}
	jw.flushSome()
	return jw.err
}
