package yamlerr

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Unmarshaler is implemented by types that decode themselves from a scalar
// (or any) node, for example rates with units. The returned error's text
// becomes the message; the decoder adds file, position and path.
type Unmarshaler interface {
	UnmarshalYAMLNode(n *yaml.Node) error
}

// Document is one parsed YAML document that remembers node positions.
type Document struct {
	File string

	mu   sync.Mutex
	root *yaml.Node // the document's content node; nil for an empty file
	// data is a copy of the source, kept after Compact so that the tree can
	// be rebuilt when an error needs a position.
	data      []byte
	compacted bool
	// keys indexes the keys of large mappings (see value); dropped with
	// the tree by Compact.
	keys map[*yaml.Node]map[string]*yaml.Node
}

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse parses data as a single YAML document. file names it in errors.
// Syntax errors come back as a List.
func Parse(file string, data []byte) (doc *Document, err error) {
	defer func() {
		// yaml.v3 has panicked on hostile input in the past; an error is
		// the right answer for any input.
		if r := recover(); r != nil {
			doc, err = nil, List{{File: file, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return &Document{File: file}, nil
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, List{{File: file, Line: extra.Line, Column: extra.Column, Msg: "expected a single YAML document, found another one here"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(file, err)
	}
	d := &Document{File: file}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		d.root = n.Content[0]
	}
	return d, nil
}

// Compact drops the node tree (a large policy's tree costs far more memory
// than its text, and the garbage collector scans it on every cycle) and
// keeps a copy of the source instead; Errorf, Locate and Has re-parse it
// on first use. Root returns nil afterwards. Call it after decoding, when
// the document is kept only to position later errors.
func (d *Document) Compact(data []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.root == nil || d.compacted {
		return
	}
	d.data = append([]byte(nil), data...)
	d.root = nil
	d.keys = nil
	d.compacted = true
}

// tree returns the root, re-parsing a compacted document.
func (d *Document) tree() *yaml.Node {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.root == nil && d.compacted {
		if re, err := Parse(d.File, d.data); err == nil {
			d.root = re.root
		}
		d.data = nil
		d.compacted = false
	}
	return d.root
}

func syntaxError(file string, err error) error {
	msg := err.Error()
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return List{{File: file, Line: line, Msg: "YAML syntax: " + m[2]}}
	}
	return List{{File: file, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}}
}

// Root returns the top-level node, or nil for an empty document.
func (d *Document) Root() *yaml.Node {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.root
}

// Errorf returns an error positioned at the node that path names
// ("classes[3].match.dscp"); when that node does not exist, at its nearest
// existing ancestor (e.g. the mapping that lacks a required key).
func (d *Document) Errorf(path, format string, args ...any) *Error {
	e := &Error{File: d.File, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n := d.Locate(path); n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// Has reports whether the node at path exists.
func (d *Document) Has(path string) bool {
	n := d.tree()
	if n == nil {
		return false
	}
	for _, seg := range splitPath(path) {
		n = deref(n)
		var next *yaml.Node
		switch {
		case seg.index >= 0 && n.Kind == yaml.SequenceNode:
			if seg.index < len(n.Content) {
				next = n.Content[seg.index]
			}
		case seg.index == 0 && n.Kind != yaml.SequenceNode:
			next = n
		case seg.index < 0 && n.Kind == yaml.MappingNode:
			next = d.value(n, seg.key)
		}
		if next == nil {
			return false
		}
		n = next
	}
	return true
}

// Locate returns the node at path, or its nearest existing ancestor, or
// nil for an empty document.
func (d *Document) Locate(path string) *yaml.Node {
	n := d.tree()
	if n == nil {
		return nil
	}
	for _, seg := range splitPath(path) {
		n = deref(n)
		var next *yaml.Node
		switch {
		case seg.index >= 0 && n.Kind == yaml.SequenceNode:
			if seg.index < len(n.Content) {
				next = n.Content[seg.index]
			}
		case seg.index == 0:
			next = n // a single value given for a ",single" list
		case seg.index < 0 && n.Kind == yaml.MappingNode:
			next = d.value(n, seg.key)
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// indexFrom is the mapping size from which value indexes the keys. Without
// the index, positioning one error per key of a mapping with n keys (a
// hostile queues.dscp of 500,000 bad codepoints) costs n² key comparisons:
// minutes instead of milliseconds.
const indexFrom = 16

// value returns the value of key in mapping m (the first, if the key is
// repeated), or nil.
func (d *Document) value(m *yaml.Node, key string) *yaml.Node {
	if len(m.Content) < 2*indexFrom {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	idx, ok := d.keys[m]
	if !ok {
		idx = make(map[string]*yaml.Node, len(m.Content)/2)
		for i := 0; i+1 < len(m.Content); i += 2 {
			if _, dup := idx[m.Content[i].Value]; !dup {
				idx[m.Content[i].Value] = m.Content[i+1]
			}
		}
		if d.keys == nil {
			d.keys = map[*yaml.Node]map[string]*yaml.Node{}
		}
		d.keys[m] = idx
	}
	return idx[key]
}

type pathSeg struct {
	key   string
	index int // -1 for a key
}

// splitPath parses a.b[3]["x.y"].c.
func splitPath(p string) []pathSeg {
	var segs []pathSeg
	for len(p) > 0 {
		switch p[0] {
		case '.':
			p = p[1:]
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return segs
			}
			inner := p[1:end]
			if uq, err := strconv.Unquote(inner); err == nil {
				segs = append(segs, pathSeg{key: uq, index: -1})
			} else if i, err := strconv.Atoi(inner); err == nil {
				segs = append(segs, pathSeg{index: i})
			} else {
				segs = append(segs, pathSeg{key: inner, index: -1})
			}
			p = p[end+1:]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			segs = append(segs, pathSeg{key: p[:end], index: -1})
			p = p[end:]
		}
	}
	return segs
}

// Key appends a mapping key to a path, quoting keys that are not plain
// identifiers.
func Key(path, key string) string {
	plain := key != ""
	for _, r := range key {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if !plain {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends a sequence index to a path.
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// Decode fills out (a non-nil pointer) from the document strictly: unknown
// and duplicate keys, wrong kinds and unparsable scalars are all reported.
// Struct fields are matched by their `yaml:"name"` tag (fields without a tag
// or tagged "-" are not decoded). Supported: structs, pointers, slices,
// map[string]T, strings, bools, ints, uints, floats and Unmarshaler. A
// slice field tagged `yaml:"name,single"` also accepts one value without
// the list brackets; its path is then name[0] all the same.
func (d *Document) Decode(out any) List {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return List{{File: d.File, Msg: "internal: Decode needs a non-nil pointer"}}
	}
	root := d.tree()
	if root == nil {
		return nil
	}
	dc := &decoder{doc: d, budget: aliasBudget(root)}
	dc.decode(root, nil, v.Elem())
	return dc.errs
}

// aliasBudget bounds the work of expanding aliases (a "billion laughs"
// document is small but expands exponentially): ten times the document's
// own size, plus slack.
func aliasBudget(root *yaml.Node) int {
	count := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		count++
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	return 10*count + 100000
}

type decoder struct {
	doc    *Document
	errs   List
	budget int
	over   bool
	types  map[reflect.Type]structInfo
	unm    map[reflect.Type]bool
}

// implements reports whether *t is an Unmarshaler (cached: reflect's
// Implements is slow and a document has few distinct types).
func (dc *decoder) implements(t reflect.Type) bool {
	u, ok := dc.unm[t]
	if !ok {
		u = reflect.PointerTo(t).Implements(unmarshalerType)
		if dc.unm == nil {
			dc.unm = map[reflect.Type]bool{}
		}
		dc.unm[t] = u
	}
	return u
}

// pathRef is a YAML path built lazily: most nodes decode without error, so
// the path string is only assembled when an error needs it.
type pathRef struct {
	parent *pathRef
	key    string
	index  int // -1 for a key
}

func (p *pathRef) String() string {
	if p == nil {
		return ""
	}
	if p.index >= 0 {
		return Index(p.parent.String(), p.index)
	}
	return Key(p.parent.String(), p.key)
}

func (dc *decoder) errorf(n *yaml.Node, path *pathRef, format string, args ...any) {
	dc.errs.Add(&Error{File: dc.doc.File, Line: n.Line, Column: n.Column, Path: path.String(), Msg: fmt.Sprintf(format, args...)})
}

var unmarshalerType = reflect.TypeFor[Unmarshaler]()

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "null"
		}
		return Quote(n.Value)
	}
	return "something else"
}

// want says what a value of type t is written as, for errors.
func (dc *decoder) want(t reflect.Type) string {
	for t.Kind() == reflect.Pointer && !dc.implements(t) {
		t = t.Elem()
	}
	switch {
	case dc.implements(t):
		return "a value"
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		return "a mapping"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	}
	return "an integer"
}

func (dc *decoder) decode(n *yaml.Node, path *pathRef, v reflect.Value) {
	if dc.over || len(dc.errs) > MaxErrors {
		return // the list is full: decoding on would only cost time
	}
	dc.budget--
	if dc.budget < 0 {
		dc.over = true
		dc.errorf(n, path, "document expands YAML aliases too much")
		return
	}
	at := n // errors about this value point at the alias, not the anchor
	if n.Kind == yaml.AliasNode {
		target := deref(n)
		if target == nil || target.Kind == yaml.AliasNode {
			dc.errorf(n, path, "unresolvable alias")
			return
		}
		n = target
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		// A key written without a value (or with null or ~) is an error,
		// not the default: code after decoding relies on a present key
		// having a value (a meter with "cir: null" once reached the
		// compiler as a meter without a rate), and a value left out by
		// mistake should not silently mean "match everything".
		hint := ""
		if path != nil && path.index < 0 {
			hint = " (leave the key out for the default)"
		}
		dc.errorf(at, path, "expected %s, got null%s", dc.want(v.Type()), hint)
		return
	}
	if v.CanAddr() && dc.implements(v.Type()) {
		if err := v.Addr().Interface().(Unmarshaler).UnmarshalYAMLNode(n); err != nil {
			dc.errorf(at, path, "%s", err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			// A struct needs a mapping; refusing anything else before
			// allocating keeps a list of a million scalars from costing a
			// million structs.
			if e := v.Type().Elem(); e.Kind() == reflect.Struct && !dc.implements(e) && n.Kind != yaml.MappingNode {
				dc.errorf(at, path, "expected a mapping, got %s", describe(n))
				return
			}
			v.Set(reflect.New(v.Type().Elem()))
		}
		dc.decode(at, path, v.Elem())
	case reflect.Struct:
		dc.decodeStruct(at, n, path, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			dc.errorf(at, path, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			dc.decode(c, &pathRef{parent: path, index: i}, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		dc.decodeMap(at, n, path, v)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			dc.errorf(at, path, "expected a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			dc.errorf(at, path, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(scalar(n), 0, v.Type().Bits())
		if n.Kind != yaml.ScalarNode || err != nil {
			dc.errorf(at, path, "expected an integer (%d-bit), got %s", v.Type().Bits(), describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(scalar(n), 0, v.Type().Bits())
		if n.Kind != yaml.ScalarNode || err != nil {
			dc.errorf(at, path, "expected an integer from 0 to %d, got %s", uint64(math.MaxUint64)>>(64-v.Type().Bits()), describe(n))
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(scalar(n), v.Type().Bits())
		if n.Kind != yaml.ScalarNode || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			dc.errorf(at, path, "expected a number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	default:
		dc.errorf(n, path, "internal: cannot decode into %s", v.Type())
	}
}

// scalar strips YAML 1.1-style underscores that yaml.v3 accepts in ints.
func scalar(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	return strings.ReplaceAll(n.Value, "_", "")
}

type fieldInfo struct {
	index  []int
	single bool
}

type structInfo struct {
	fields map[string]fieldInfo
	names  []string
}

func (dc *decoder) structFields(t reflect.Type) (map[string]fieldInfo, []string) {
	if si, ok := dc.types[t]; ok {
		return si.fields, si.names
	}
	m := map[string]fieldInfo{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		m[name] = fieldInfo{index: f.Index, single: opts == "single"}
		names = append(names, name)
	}
	if dc.types == nil {
		dc.types = map[reflect.Type]structInfo{}
	}
	dc.types[t] = structInfo{m, names}
	return m, names
}

func (dc *decoder) decodeStruct(at, n *yaml.Node, path *pathRef, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		dc.errorf(at, path, "expected a mapping, got %s", describe(n))
		return
	}
	fields, names := dc.structFields(v.Type())
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			dc.errorf(n.Content[i], path, "expected a plain key, got %s", describe(n.Content[i]))
			continue
		}
		kp := &pathRef{parent: path, key: k.Value, index: -1}
		if k.ShortTag() == "!!merge" {
			dc.errorf(k, kp, "merge keys (<<) are not supported; repeat the keys or use an alias for the whole value")
			continue
		}
		if seen[k.Value] {
			dc.errorf(k, kp, "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		f, ok := fields[k.Value]
		if !ok {
			dc.errorf(k, kp, "unknown key %q%s (expected one of: %s)", k.Value, Suggest(k.Value, names), strings.Join(names, ", "))
			continue
		}
		fv := v.FieldByIndex(f.index)
		if f.single && fv.Kind() == reflect.Slice {
			if t := deref(val); t != nil && t.Kind != yaml.SequenceNode && !(t.Kind == yaml.ScalarNode && t.ShortTag() == "!!null") {
				s := reflect.MakeSlice(fv.Type(), 1, 1)
				dc.decode(val, &pathRef{parent: kp, index: 0}, s.Index(0))
				fv.Set(s)
				continue
			}
		}
		dc.decode(val, kp, fv)
	}
}

func (dc *decoder) decodeMap(at, n *yaml.Node, path *pathRef, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		dc.errorf(at, path, "expected a mapping, got %s", describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		dc.errorf(n, path, "internal: map keys must be strings")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(v.Type(), len(n.Content)/2))
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			dc.errorf(n.Content[i], path, "expected a plain key, got %s", describe(n.Content[i]))
			continue
		}
		kp := &pathRef{parent: path, key: k.Value, index: -1}
		if seen[k.Value] {
			dc.errorf(k, kp, "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		ev := reflect.New(v.Type().Elem()).Elem()
		dc.decode(val, kp, ev)
		v.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), ev)
	}
}
