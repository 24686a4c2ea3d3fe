package allocator

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeYAML is ParseProblem's fast path for YAML input: it decodes the
// block-YAML subset that problem files use straight into a Problem, with no
// node tree (yaml.v3's costs ~650k allocations and ~10× the time of the rest
// of a parse for a 1.7 MB problem; docs/performance.md).
//
// The subset: block mappings and block lists (including "- key: v" and
// "- - x" items, and a list at its key's own indentation), plain,
// single-quoted and double-quoted one-line scalars, flow lists and flow
// mappings ([a, b], {k: v}, over several lines if indented), comments, blank
// lines, and one "---" document start. Like decodeJSON it is all-or-nothing:
// anything it is not certain of — anchors, aliases, tags, block scalars (| >),
// multi-line plain scalars, a second document, directives, tabs, CR, non-ASCII
// bytes, escapes in double quotes, an unknown or duplicate key, a scalar
// whose yaml.v3 type it is unsure of — returns nil, and ParseProblem reads
// the same bytes through yaml.v3 (parseYAML), which reports every problem with
// its line. FuzzDecodeYAML checks that whatever this accepts, parseYAML reads
// identically.
//
// On failure it returns nil and the byte offset where it gave up.
func decodeYAML(data []byte) (p *Problem, failedAt int) {
	if at := unsafeByte(data); at >= 0 {
		return nil, at
	}
	d := &yamlDecoder{data: data, indent: -1, docStart: true}
	d.pos = -1 // as if just before a line break
	ind, ok := d.nextLine()
	if !ok || ind < 0 {
		return nil, d.pos // nothing but comments: parseYAML says "empty problem"
	}
	p = &Problem{}
	if !decodeProblem(valueReader{y: d}, p) {
		return nil, d.pos
	}
	if ind, ok := d.nextContent(); !ok || ind >= 0 {
		return nil, d.pos // anything after the root mapping
	}
	return p, 0
}

// unsafeByte returns the offset of the first byte this reader does not
// take, or -1. It takes printable ASCII and LF; tabs, CR and other controls
// change how YAML reads lines and whitespace. Beyond ASCII it takes what
// YAML calls printable except a BOM and the line breaks U+2028 and U+2029
// (NEL, U+0085, is no printable it takes either): those are allowed in
// comments (scalars and keys refuse every non-ASCII byte themselves).
func unsafeByte(data []byte) int {
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c < 0x80 {
			if c != '\n' && (c < 0x20 || c == 0x7f) {
				return i
			}
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r < 0xa0 || r >= 0xd800 && r < 0xe000 || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff || r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n - 1
	}
	return -1
}

// maxFlowDepth bounds nested flow collections; the problem's layout needs
// two ([[share, rate]]).
const maxFlowDepth = 8

// yamlDecoder is a cursor over YAML bytes. The value it reads next is owned
// by a key or a list dash; indent, seqSame and inline describe that owner,
// and are set by the block loops before each value.
type yamlDecoder struct {
	data      []byte
	pos       int
	lineStart int // offset of the line pos is on

	// fresh: pos is at the first content byte of a line whose indentation
	// is lineInd (-1 at the end of the input): the owner's value was empty
	// on its own line and whatever comes next has already been found.
	fresh   bool
	lineInd int

	indent  int  // column of the value's owner (key or dash); -1 for the root
	seqSame bool // a block list may start at indent itself (a key's value)
	inline  bool // a block collection may start on this line (after "- ")

	flow    int // depth of flow collections around pos
	flowMin int // lines inside a flow collection must be indented more than this

	docStart bool // no content yet: a "---" line may start the document
}

// marker reports whether a document marker (--- or ...) starts at pos.
func (d *yamlDecoder) marker(m string) bool {
	rest := d.data[d.pos:]
	return strings.HasPrefix(string(rest[:min(len(rest), 3)]), m) && (len(rest) == 3 || rest[3] == ' ' || rest[3] == '\n')
}

// nextContent moves to the first content byte of the next line that has
// any, after checking that the rest of the current line is blank or a
// comment. It returns that line's indentation, -1 at the end of the input;
// false if the current line has more on it, or the next is a document
// marker.
func (d *yamlDecoder) nextContent() (int, bool) {
	if d.fresh {
		return d.lineInd, true
	}
	if !d.restOfLine() {
		return 0, false
	}
	return d.nextLine()
}

// nextLine: pos is at a line break (or -1, or the end of the input).
func (d *yamlDecoder) nextLine() (int, bool) {
	for {
		if d.pos >= len(d.data) {
			d.pos, d.fresh, d.lineInd = len(d.data), true, -1
			return -1, true
		}
		d.pos++
		d.lineStart = d.pos
		for d.pos < len(d.data) && d.data[d.pos] == ' ' {
			d.pos++
		}
		switch {
		case d.pos >= len(d.data):
			continue
		case d.data[d.pos] == '\n':
			continue
		case d.data[d.pos] == '#':
			d.skipComment()
			continue
		}
		ind := d.pos - d.lineStart
		if ind == 0 && d.docStart && d.marker("---") {
			d.docStart = false
			d.pos += 3
			if !d.restOfLine() {
				return 0, false // content on the "---" line
			}
			continue
		}
		if ind == 0 && (d.marker("---") || d.marker("...")) {
			return 0, false // a second document, or the end of this one
		}
		d.docStart = false
		d.fresh, d.lineInd = true, ind
		return ind, true
	}
}

// skipComment moves pos to the line break (or end) that ends a comment.
func (d *yamlDecoder) skipComment() {
	for d.pos < len(d.data) && d.data[d.pos] != '\n' {
		d.pos++
	}
}

// restOfLine checks that only spaces and a comment remain on the line and
// moves pos to its end.
func (d *yamlDecoder) restOfLine() bool {
	d.spaces()
	if d.pos < len(d.data) && d.data[d.pos] == '#' && (d.pos == d.lineStart || d.data[d.pos-1] == ' ') {
		d.skipComment()
	}
	return d.pos >= len(d.data) || d.data[d.pos] == '\n'
}

func (d *yamlDecoder) spaces() {
	for d.pos < len(d.data) && d.data[d.pos] == ' ' {
		d.pos++
	}
}

// atLineEnd: after spaces, the line ends here or a comment starts.
func (d *yamlDecoder) atLineEnd() bool {
	return d.pos >= len(d.data) || d.data[d.pos] == '\n' || d.data[d.pos] == '#' && d.data[d.pos-1] == ' '
}

// isDash reports whether a block list entry ("- " or a lone "-") starts at
// pos.
func (d *yamlDecoder) isDash() bool {
	return d.pos < len(d.data) && d.data[d.pos] == '-' && (d.pos+1 == len(d.data) || d.data[d.pos+1] == ' ' || d.data[d.pos+1] == '\n')
}

// next finds where the owner's value starts: on the same line (false
// returned as fresh) or, if the line ends there, on the next content line
// (fresh, with its indentation in lineInd).
func (d *yamlDecoder) next() (fresh, ok bool) {
	if d.flow > 0 {
		return false, d.flowSpace()
	}
	if d.fresh {
		return true, true
	}
	d.spaces()
	if !d.atLineEnd() {
		return false, true
	}
	_, ok = d.nextContent()
	return true, ok
}

func (d *yamlDecoder) object(field func(key string) bool) bool {
	fresh, ok := d.next()
	switch {
	case !ok || d.pos >= len(d.data):
		return false
	case d.flow > 0:
		return d.data[d.pos] == '{' && d.flowMap(field)
	case fresh && d.lineInd <= d.indent:
		return false // an empty value: null, which is not a mapping
	case d.data[d.pos] == '{':
		d.flowMin = d.indent
		return d.flowMap(field)
	case fresh && !d.isDash():
		return d.blockMap(d.lineInd, field)
	case !fresh && d.inline && !d.isDash():
		return d.blockMap(d.pos-d.lineStart, field) // "- key: value"
	}
	return false
}

func (d *yamlDecoder) array(elem func() bool) bool {
	fresh, ok := d.next()
	switch {
	case !ok || d.pos >= len(d.data):
		return false
	case d.flow > 0:
		return d.data[d.pos] == '[' && d.flowSeq(elem)
	case d.data[d.pos] == '[' && (!fresh || d.lineInd > d.indent):
		d.flowMin = d.indent
		return d.flowSeq(elem)
	case fresh && d.isDash() && (d.lineInd > d.indent || d.lineInd == d.indent && d.seqSame):
		return d.blockSeq(d.lineInd, elem)
	case !fresh && d.inline && d.isDash():
		return d.blockSeq(d.pos-d.lineStart, elem) // "- - x"
	}
	return false
}

// blockMap reads the block mapping whose keys are in column m; pos is at
// its first key.
func (d *yamlDecoder) blockMap(m int, field func(key string) bool) bool {
	for {
		keyAt := d.pos
		k, ok := d.key()
		if !ok {
			d.pos = keyAt
			return false
		}
		d.indent, d.seqSame, d.inline, d.fresh = m, true, false, false
		if valueAt := d.pos; !field(k) {
			if d.pos == valueAt {
				d.pos = keyAt // an unknown key: point at it, not past it
			}
			return false
		}
		ind, ok := d.nextContent()
		switch {
		case !ok || ind > m:
			return false
		case ind < m:
			return true // the mapping ends; the owner checks what follows
		case d.isDash():
			return false
		}
		d.fresh = false
	}
}

// blockSeq reads the block list whose dashes are in column m; pos is at
// the first dash.
func (d *yamlDecoder) blockSeq(m int, elem func() bool) bool {
	for {
		d.pos++ // the dash
		d.indent, d.seqSame, d.inline, d.fresh = m, false, true, false
		if !elem() {
			return false
		}
		ind, ok := d.nextContent()
		switch {
		case !ok || ind > m:
			return false
		case ind < m || !d.isDash():
			// The list ends. A key in column m is the next key of the
			// mapping that owns a list at its own indentation; in any
			// other case the owner finds it misplaced.
			return true
		}
		d.fresh = false
	}
}

// key reads a block mapping key and the ": " after it. Only the problem's
// own keys, plain or quoted, are taken (any other key is an error anyway).
func (d *yamlDecoder) key() (string, bool) {
	d.fresh = false
	if d.pos >= len(d.data) {
		return "", false
	}
	var k []byte
	if c := d.data[d.pos]; c == '"' || c == '\'' {
		s, ok := d.quoted()
		if !ok {
			return "", false
		}
		k = s
	} else {
		start := d.pos
		for d.pos < len(d.data) && (d.data[d.pos] >= 'a' && d.data[d.pos] <= 'z' || d.data[d.pos] == '_') {
			d.pos++
		}
		k = d.data[start:d.pos]
	}
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return "", false
	}
	d.pos++
	if d.pos < len(d.data) && d.data[d.pos] != ' ' && d.data[d.pos] != '\n' {
		return "", false
	}
	return keyString(k), true
}

// flowSeq reads [a, b, ...]; pos is at '['.
func (d *yamlDecoder) flowSeq(elem func() bool) bool {
	return d.flowCollection(']', elem)
}

// flowMap reads {k: v, ...}; pos is at '{'.
func (d *yamlDecoder) flowMap(field func(key string) bool) bool {
	return d.flowCollection('}', func() bool {
		keyAt := d.pos
		k, ok := d.key()
		if !ok {
			d.pos = keyAt
			return false
		}
		if valueAt := d.pos; !field(k) {
			if d.pos == valueAt {
				d.pos = keyAt
			}
			return false
		}
		return true
	})
}

// flowCollection reads the entries of a flow collection that ends with
// end, without the trailing comma YAML allows (parseYAML takes that case).
func (d *yamlDecoder) flowCollection(end byte, entry func() bool) bool {
	if d.flow >= maxFlowDepth {
		return false
	}
	d.flow++
	d.pos++
	d.fresh = false
	if !d.flowSpace() {
		return false
	}
	if d.pos < len(d.data) && d.data[d.pos] == end {
		d.pos++
		d.flow--
		return true
	}
	for {
		if !d.flowSpace() || !entry() || !d.flowSpace() || d.pos >= len(d.data) {
			return false
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			if !d.flowSpace() || d.pos >= len(d.data) || d.data[d.pos] == end {
				return false
			}
		case end:
			d.pos++
			d.flow--
			return true
		default:
			return false
		}
	}
}

// flowSpace skips spaces, line breaks and comments inside a flow
// collection; false if a line inside it is not indented more than the
// block that holds it.
func (d *yamlDecoder) flowSpace() bool {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ':
			d.pos++
		case '\n':
			d.pos++
			d.lineStart = d.pos
			d.spaces()
			if d.pos < len(d.data) && d.data[d.pos] != '\n' && d.pos-d.lineStart <= d.flowMin {
				return false
			}
		case '#':
			if d.data[d.pos-1] != ' ' && d.data[d.pos-1] != '\n' {
				return true // not a comment: the caller fails on it
			}
			d.skipComment()
		default:
			return true
		}
	}
	return true
}

// quoted reads a one-line single- or double-quoted scalar at pos. Double
// quotes with any escape are left to parseYAML.
func (d *yamlDecoder) quoted() ([]byte, bool) {
	q := d.data[d.pos]
	d.pos++
	start := d.pos
	var b []byte // only for '' in single quotes
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '\n' || c >= 0x80 || q == '"' && c == '\\':
			return nil, false
		case c == q && q == '\'' && d.pos+1 < len(d.data) && d.data[d.pos+1] == '\'':
			b = append(b, d.data[start:d.pos+1]...)
			d.pos += 2
			start = d.pos
			continue
		case c == q:
			s := d.data[start:d.pos]
			if b != nil {
				s = append(b, s...)
			}
			d.pos++
			return s, true
		}
		d.pos++
	}
	return nil, false
}

// scalar reads the scalar value at pos; plain reports its style (only a
// plain scalar can be null or a number in YAML). An empty value is a plain
// "". It fails on anything else: a collection, a scalar that continues on
// the next line, an anchor, alias or tag.
func (d *yamlDecoder) scalar() (s []byte, plain, ok bool) {
	fresh, ok := d.next()
	if !ok {
		return nil, false, false
	}
	if fresh && d.flow == 0 {
		if d.lineInd > d.indent || d.lineInd == d.indent && d.seqSame && d.isDash() {
			return nil, false, false // a block collection or a multi-line scalar
		}
		return nil, true, true // empty: the next line is the owner's sibling
	}
	if d.pos >= len(d.data) {
		return nil, false, false
	}
	switch c := d.data[d.pos]; c {
	case '"', '\'':
		s, ok := d.quoted()
		d.fresh = false
		return s, false, ok
	case '-':
		// "-5" is a scalar; "- x" a list entry, and a '-' before a flow
		// indicator is left to parseYAML.
		if d.pos+1 >= len(d.data) || strings.IndexByte(" \n[]{},#", d.data[d.pos+1]) >= 0 {
			return nil, false, false
		}
	case '?', ':', '[', ']', '{', '}', ',', '#', '&', '*', '!', '|', '>', '%', '@', '`':
		// Indicators: explicit keys, flow collections, comments, anchors,
		// aliases, tags, block scalars, directives, reserved.
		return nil, false, false
	}
	start := d.pos
scan:
	for ; d.pos < len(d.data); d.pos++ {
		switch c := d.data[d.pos]; c {
		case '\n':
			break scan
		case '#':
			if d.data[d.pos-1] == ' ' {
				break scan // a comment
			}
		case '[', ']', '{', '}', ',':
			// Flow indicators end a plain scalar in a flow collection;
			// inside a block one they are left to parseYAML.
			if d.flow > 0 {
				break scan
			}
			return nil, false, false
		case ':':
			if d.flow > 0 || d.pos+1 == len(d.data) || d.data[d.pos+1] == ' ' || d.data[d.pos+1] == '\n' {
				return nil, false, false // a key, or a ':' in a flow scalar
			}
		default:
			if c >= 0x80 {
				return nil, false, false // only ASCII in scalars (see unsafeByte)
			}
		}
	}
	end := d.pos
	for end > start && d.data[end-1] == ' ' {
		end--
	}
	d.fresh = false
	return d.data[start:end], true, true
}

// isNull: the plain scalars yaml.v3 resolves to null.
func isNull(s []byte) bool {
	switch string(s) {
	case "", "~", "null", "Null", "NULL":
		return true
	}
	return false
}

func (d *yamlDecoder) str() (string, bool) {
	s, plain, ok := d.scalar()
	return string(s), ok && !(plain && isNull(s))
}

// number converts as the YAML path does (strconv.ParseFloat of the trimmed
// value, whatever the scalar's style) but only for decimal spellings: hex,
// inf, nan and underscores are left to it.
func (d *yamlDecoder) number() (float64, bool) {
	s, plain, ok := d.scalar()
	if !ok || plain && isNull(s) {
		return 0, false
	}
	s = bytes.TrimSpace(s)
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(string(s), 64)
	return v, err == nil
}

// rate reads a rate as the YAML path does: a plain scalar that yaml.v3
// resolves to an int or a float is parsed as a number, anything else as a
// string with units. Plain scalars whose resolution this is not certain of
// are left to it.
func (d *yamlDecoder) rate() (float64, bool) {
	s, plain, ok := d.scalar()
	switch {
	case !ok || plain && isNull(s):
		return 0, false
	case !plain:
		return parseRate(string(s)) // quoted: always a string
	case isDecimal(s):
		// yaml.v3 resolves every such scalar to !!int or !!float (or,
		// out of float range, to a string ParseBitrate rejects too).
		v, err := strconv.ParseFloat(string(s), 64)
		return v, err == nil
	case isUnitRate(s):
		return parseRate(string(s)) // certainly a string to yaml.v3
	}
	return 0, false
}

// isDecimal reports whether s is a JSON-style number.
func isDecimal(s []byte) bool {
	n := numberLen(s)
	return n > 0 && n == len(s)
}

// numberLen is the length of the JSON-style number
// (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?) that s starts with, 0 if none.
func numberLen(s []byte) int {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	n := digits(s[i:])
	if n == 0 {
		return 0
	}
	if s[i] == '0' {
		n = 1 // "012" is "0" and more: not a number here
	}
	i += n
	if i < len(s) && s[i] == '.' {
		if n = digits(s[i+1:]); n > 0 {
			i += 1 + n
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if n = digits(s[j:]); n > 0 {
			i = j + n
		}
	}
	return i
}

// isUnitRate reports whether s is a number followed by a unit of letters
// ("10Gbps", "2.5 Mbps", "1.5e+09bps"): yaml.v3 resolves none of these to
// anything but a string (no int, float or timestamp spelling ends in a
// letter), except "0x…", "0o…" and "0b…" (and signed ones), which are
// refused.
func isUnitRate(s []byte) bool {
	n := numberLen(s)
	if n == 0 || s[0] == '-' || s[0] == '0' && n == 1 && len(s) > 1 && bytes.IndexByte([]byte("xXoObB"), s[1]) >= 0 {
		return false
	}
	i := n
	if i < len(s) && s[i] == ' ' {
		i++
	}
	if i == len(s) || s[len(s)-1] == '/' {
		return false
	}
	for ; i < len(s); i++ {
		if c := s[i] | 0x20; (c < 'a' || c > 'z') && s[i] != '/' {
			return false
		}
	}
	return true
}

// digits counts the ASCII digits at the start of s.
func digits(s []byte) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func (d *yamlDecoder) null() bool {
	saved := *d
	if s, plain, ok := d.scalar(); ok && plain && isNull(s) {
		return true
	}
	*d = saved
	return false
}

// listLen counts the items of the list of scalars that comes next — a flow
// list on this line, or block items ("- x") in one column on the lines
// that follow — without consuming anything. It is a capacity hint only.
func (d *yamlDecoder) listLen() int {
	i := d.pos
	for i < len(d.data) && d.data[i] == ' ' {
		i++
	}
	if i < len(d.data) && d.data[i] == '[' {
		n := 1
		for i++; i < len(d.data) && d.data[i] != ']' && d.data[i] != '\n'; i++ {
			if d.data[i] == ',' {
				n++
			}
		}
		return n
	}
	n, col := 0, -1
	for {
		for i < len(d.data) && d.data[i] != '\n' {
			i++
		}
		if i++; i >= len(d.data) {
			return n
		}
		start := i
		for i < len(d.data) && d.data[i] == ' ' {
			i++
		}
		if col < 0 {
			col = i - start
		}
		if i-start != col || i+1 >= len(d.data) || d.data[i] != '-' || d.data[i+1] != ' ' {
			return n
		}
		n++
	}
}
