package allocator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// problemYAML writes p as YAML in one of the styles people and tools
// write: style 0 all block (lists at their key's indentation, "- - x"
// points, quoted names, comments, "---"); style 1 flow items as in
// testdata/example.yaml, with a flow list over two lines; styles 2 and 3
// what yaml.v3's encoder writes (indent 4 and 2) for the JSON form. Every
// third rate is a string with units.
func problemYAML(t testing.TB, p *Problem, style int) []byte {
	t.Helper()
	if style >= 2 {
		var doc any
		if err := json.Unmarshal(problemJSON(t, p), &doc); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(map[int]int{2: 4, 3: 2}[style])
		if err := enc.Encode(doc); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	n := 0
	rate := func(v float64) string {
		n++
		switch n % 3 {
		case 0:
			return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "Mbps"
		case 1:
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	quote := func(s string) string {
		n++
		switch n % 3 {
		case 0:
			return `"` + s + `"`
		case 1:
			return "'" + s + "'"
		}
		return s
	}
	var b strings.Builder
	w := func(ind int, format string, args ...any) {
		b.WriteString(strings.Repeat(" ", ind))
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	fn := func(ind int, f BandwidthFunction) {
		switch {
		case f.Points != nil && style == 0:
			w(ind, "function:")
			for _, pt := range f.Points {
				w(ind, "- - %s", num(pt.Share))
				w(ind, "  - %s", rate(pt.Rate))
			}
		case f.Points != nil:
			var pts []string
			for _, pt := range f.Points {
				pts = append(pts, "["+num(pt.Share)+", "+rate(pt.Rate)+"]")
			}
			w(ind, "function: [%s]", strings.Join(pts, ", "))
		case f.Weight != 0:
			w(ind, "weight: %s  # a slope", rate(f.Weight))
		}
	}
	var children func(ind int, cs []Child)
	children = func(ind int, cs []Child) {
		w(ind, "children:")
		for _, c := range cs {
			w(ind+2, "- name: %s", quote(c.Name))
			fn(ind+4, c.Function)
			if c.Demand != nil {
				w(ind+4, "demand: %s", rate(*c.Demand))
			}
			if c.Children != nil {
				children(ind+4, c.Children)
			}
		}
	}
	w(0, "# a problem\n---")
	if p.Mode != "" {
		w(0, "mode: %s", p.Mode)
	}
	w(0, "links:")
	for _, l := range p.Links {
		if style == 0 {
			w(0, "- name: %s", quote(l.Name))
			w(0, "  capacity: %s", rate(l.Capacity))
		} else {
			w(2, "- {name: %s, capacity: %s}", quote(l.Name), rate(l.Capacity))
		}
	}
	w(0, "\nflow_groups:")
	for i, fg := range p.FlowGroups {
		if i%7 == 0 {
			w(4, "# flow group %d", i)
		}
		w(2, "- name: %s", quote(fg.Name))
		fn(4, fg.Function)
		if fg.Demand != nil {
			w(4, "demand: %s", rate(*fg.Demand))
		}
		w(4, "paths:")
		for j, pa := range fg.Paths {
			switch {
			case style == 0:
				w(4, "- links:")
				for _, l := range pa.Links {
					w(8, "- %s", quote(l))
				}
				w(6, "weight: %s", num(pa.Weight))
			case j%2 == 1 && len(pa.Links) > 1:
				w(6, "- {links: [%s,", strings.Join(pa.Links[:1], ", "))
				w(12, "%s], weight: %s}", strings.Join(pa.Links[1:], ", "), num(pa.Weight))
			default:
				w(6, "- {links: [%s], weight: %s}", strings.Join(pa.Links, ", "), num(pa.Weight))
			}
		}
		if fg.Children != nil {
			children(4, fg.Children)
		}
	}
	return []byte(b.String())
}

// randomCases are problems of every shape: random ones in each mode, with
// children, a unit string and a null demand beside the numbers.
func randomCases() map[string]*Problem {
	cases := map[string]*Problem{}
	for i, mode := range []Mode{"", Split, Preferred} {
		p := RandomProblem(200+i*50, 40, mode, uint64(i+1))
		p.FlowGroups[0].Children = []Child{{Name: "a", Function: WeightFunction(1)}, {Name: "b", Demand: Limit(2e9), Function: PiecewiseFunction(Point{1, 3e9}),
			Children: []Child{{Name: "b1", Function: WeightFunction(2)}}}}
		cases[string(mode)+"-random"] = p
	}
	return cases
}

// TestDecodeYAMLMatchesYAMLPath: the fast YAML path and yaml.v3's build the
// same Problem from the same bytes, on random problems in four styles and
// on the shipped examples, and the fast path takes all of them.
func TestDecodeYAMLMatchesYAMLPath(t *testing.T) {
	inputs := map[string][]byte{}
	for name, p := range randomCases() {
		for style := range 4 {
			inputs[fmt.Sprintf("%s/style%d", name, style)] = problemYAML(t, p, style)
		}
	}
	for _, f := range []string{"testdata/example.yaml", "testdata/b4.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = b
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			mustTakeYAML(t, data)
		})
	}
}

// mustTakeYAML fails t unless the fast path takes data as a valid problem
// and the YAML path reads it identically; it returns the problem.
func mustTakeYAML(t *testing.T, data []byte) *Problem {
	t.Helper()
	if !agreesWithYAMLPath(t, decodeYAML, data) {
		fast, at := decodeYAML(data)
		line, col := lineCol(data, at)
		t.Fatalf("fast path refused a valid problem (at line %d col %d, near %q; validation: %v):\n%.600s", line, col, excerpt(data, at), fast.Validate(), data)
	}
	p, _ := decodeYAML(data)
	return p
}

// yamlHead is a valid problem's start; the cases below append a flow
// group to it.
const yamlHead = "links:\n  - name: l\n    capacity: 1e9\nflow_groups:\n"

// longChildren is a flow list of 1,000 children, a line longer than
// YAML's 1,024-character limit on implicit keys.
var longChildren = func() string {
	var cs []string
	for i := range 1000 {
		cs = append(cs, fmt.Sprintf("{name: c%d, weight: 1}", i))
	}
	return strings.Join(cs, ", ")
}()

// TestDecodeYAMLSubset: what the fast path takes, and the value each
// scalar resolves to, as yaml.v3 and parse.go resolve it.
func TestDecodeYAMLSubset(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		check     func(p *Problem) bool
	}{
		{"bool-like names are strings", "  - name: yes\n    weight: 1\n    paths: [{links: [l]}]\n",
			func(p *Problem) bool { return p.FlowGroups[0].Name == "yes" }},
		{"quoted share is a number", "  - name: a\n    function: [['1', 2Gbps]]\n    paths: [{links: [l]}]\n",
			func(p *Problem) bool { return p.FlowGroups[0].Function.Points[0] == Point{1, 2e9} }},
		{"plain 1e3 rate", "  - name: a\n    weight: 1e3\n    paths: [{links: [l]}]\n",
			func(p *Problem) bool { return p.FlowGroups[0].Function.Weight == 1000 }},
		{"quoted 1e3 rate", "  - name: a\n    weight: \"1e3\"\n    paths: [{links: [l]}]\n",
			func(p *Problem) bool { return p.FlowGroups[0].Function.Weight == 1000 }},
		{"rate with a space and unit", "  - name: a\n    weight: 2.5 Mbps\n    paths: [{links: [l]}]\n",
			func(p *Problem) bool { return p.FlowGroups[0].Function.Weight == 2.5e6 }},
		{"single quotes with ''", "  - name: 'it''s'\n    weight: 1\n    paths: [{links: [l]}]\n",
			func(p *Problem) bool { return p.FlowGroups[0].Name == "it's" }},
		{"null demand and empty value", "  - name: a\n    demand: ~\n    weight: 1\n    paths: [{links: [l]}]\n    children:\n",
			func(p *Problem) bool {
				fg := p.FlowGroups[0]
				return fg.Demand == nil && fg.Children != nil && len(fg.Children) == 0
			}},
		{"comments and a colon in a name", "  # c\n  - name: a:b # c\n    weight: 1 #c\n\n    paths: [{links: [l]}]   # c\n",
			func(p *Problem) bool { return p.FlowGroups[0].Name == "a:b" }},
		{"flow list over lines", "  - name: a\n    weight: 1\n    paths: [{links: [\n       l]}, {\n      links: [l]}]\n",
			func(p *Problem) bool { return len(p.FlowGroups[0].Paths) == 2 }},
		{"list at the key's indentation", "  - name: a\n    weight: 1\n    paths:\n    - links:\n      - l\n      weight: 2\n",
			func(p *Problem) bool { return p.FlowGroups[0].Paths[0].Weight == 2 }},
		{"quoted keys", "  - \"name\": a\n    'weight': 1\n    paths: [{\"links\": [l]}]\n",
			func(p *Problem) bool { return p.FlowGroups[0].Name == "a" }},
		{"long scalars and a long flow line", "  - name: " + strings.Repeat("n", 3000) + "\n    weight: 1\n    paths: [{links: [l]}]\n    children: [" + longChildren + "]\n",
			func(p *Problem) bool {
				return len(p.FlowGroups[0].Name) == 3000 && len(p.FlowGroups[0].Children) == 1000
			}},
		{"negative zero and exponent", "  - name: a\n    function: [[-0, 0], [1.5E+1, 1e+09]]\n    paths: [{links: [l]}]\n",
			func(p *Problem) bool { return p.FlowGroups[0].Function.Points[1] == Point{15, 1e9} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fast := mustTakeYAML(t, []byte(yamlHead+tc.src))
			if !tc.check(fast) {
				t.Fatalf("unexpected value: %+v", fast.FlowGroups)
			}
		})
	}
}

// TestDecodeYAMLDefersToYAMLPath: what the fast path is unsure of it
// leaves to yaml.v3, so the result — a problem or the same positioned
// errors — is what parseYAML gives.
func TestDecodeYAMLDefersToYAMLPath(t *testing.T) {
	fg := "  - name: a\n    weight: 1\n    paths: [{links: [l]}]\n"
	for _, tc := range []struct {
		name, src string
		want      string // a part of the error; "" when the input is valid
	}{
		{"anchor and alias", "links:\n  - &l {name: l, capacity: 1e9}\nflow_groups:\n  - name: a\n    weight: 1\n    paths: [{links: [l]}]\n  - name: b\n    weight: 1\n    paths: [{links: [l]}]\nx: *l\n", "unknown key \"x\""},
		{"alias to a list", yamlHead + "  - name: a\n    weight: 1\n    paths: &p [{links: [l]}]\n  - name: b\n    weight: 1\n    paths: *p\n", ""},
		{"tag", yamlHead + "  - name: !!str a\n    weight: 1\n    paths: [{links: [l]}]\n", ""},
		{"block scalar", yamlHead + "  - name: |\n      a\n    weight: 1\n    paths: [{links: [l]}]\n", ""},
		{"folded scalar", yamlHead + "  - name: >-\n      a\n    weight: 1\n    paths: [{links: [l]}]\n", ""},
		{"multi-line plain", yamlHead + "  - name: a\n      b\n    weight: 1\n    paths: [{links: [l]}]\n", ""},
		{"second document", yamlHead + fg + "---\nmode: split\n", ""}, // yaml.v3 reads the first
		{"document end", yamlHead + fg + "...\n", ""},
		{"tab", yamlHead + "  - name: a\n    weight:\t1\n    paths: [{links: [l]}]\n", ""},
		{"CRLF", strings.ReplaceAll(yamlHead+fg, "\n", "\r\n"), ""},
		{"BOM", "\ufeff" + yamlHead + fg, ""},
		{"unknown key", yamlHead + "  - name: a\n    wieght: 1\n    paths: [{links: [l]}]\n", "p.yaml: line 6: flow_groups[0] \"a\": unknown key \"wieght\""},
		{"duplicate key", yamlHead + "  - name: a\n    weight: 1\n    weight: 2\n    paths: [{links: [l]}]\n", "line 7: flow_groups[0] \"a\": duplicate key \"weight\""},
		{"escape", yamlHead + "  - name: \"\\x61\"\n    weight: 1\n    paths: [{links: [l]}]\n", ""},
		{"hex rate", yamlHead + "  - name: a\n    weight: 0x10\n    paths: [{links: [l]}]\n", "weight: invalid quantity"},
		{"inf rate", yamlHead + "  - name: a\n    weight: .inf\n    paths: [{links: [l]}]\n", "weight"},
		{"underscore rate", yamlHead + "  - name: a\n    weight: 1_000\n    paths: [{links: [l]}]\n", ""},
		{"plus rate", yamlHead + "  - name: a\n    weight: +1\n    paths: [{links: [l]}]\n", ""},
		{"yes as a rate", yamlHead + "  - name: a\n    weight: yes\n    paths: [{links: [l]}]\n", "weight"},
		{"null name", yamlHead + "  - name: null\n    weight: 1\n    paths: [{links: [l]}]\n", "name: want a string"},
		{"null function", yamlHead + "  - name: a\n    weight: 1\n    function: ~\n    paths: [{links: [l]}]\n", ""},
		{"trailing comma", yamlHead + "  - name: a\n    weight: 1\n    paths: [{links: [l, ]}]\n", ""},
		{"explicit key", yamlHead + "  - ? name\n    : a\n    weight: 1\n    paths: [{links: [l]}]\n", ""},
		{"flow pair without space", yamlHead + "  - {name: a, weight: 1, paths: [{links: [l]}], demand:1}\n", "unknown key"},
		{"unit rate with bad unit", yamlHead + "  - name: a\n    weight: 10mbps\n    paths: [{links: [l]}]\n", "line 6: flow_groups[0] \"a\": weight: invalid quantity: \"10mbps\": ambiguous unit"},
		{"validation", yamlHead + "  - name: a\n    weight: 1\n    paths: [{links: [nope]}]\n", "p.yaml: line 7: flow_groups[0] \"a\": path 0: unknown link \"nope\""},
		{"not a mapping", "- a\n- b\n", "want a mapping"},
		{"empty", "# nothing\n", "empty problem"},
		{"root indented then not", "  links: []\nflow_groups: []\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.src)
			if p, _ := decodeYAML(data); p != nil && p.Validate() == nil {
				t.Fatalf("fast path accepted %q", tc.src)
			}
			got, err := ParseProblem(bytes.NewReader(data), "p.yaml")
			slow, slowErr := parseYAML(data, "p.yaml")
			if fmt.Sprint(err) != fmt.Sprint(slowErr) || !reflect.DeepEqual(got, slow) {
				t.Fatalf("ParseProblem and parseYAML differ:\n%v\n%v", err, slowErr)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want a problem, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// FuzzDecodeYAML: whatever the fast YAML path accepts (and validates),
// yaml.v3's path accepts too and reads identically.
func FuzzDecodeYAML(f *testing.F) {
	for _, p := range randomCasesSmall() {
		for style := range 4 {
			f.Add(problemYAML(f, p, style))
		}
	}
	for _, s := range []string{
		yamlHead + "  - name: 'a''b'\n    demand: \"2 Gbps\"\n    function:\n    - - '0'\n      - 0\n    - [1, 1e9]\n    paths:\n    - links: [l, l]\n      weight: 0.5\n",
		"---\nobjective: alpha-fair\nalpha: 2\nlinks: [{name: l, capacity: 10Gbps}]\nflow_groups:\n- {name: a, weight: 1Gbps, paths: [{links: [l]}], children: [{name: c, weight: 1}]}\n",
		"links:\nflow_groups: ~\nmode: preferred # m\n",
		yamlHead + "  - name: a\n    weight: 1\n    paths:\n      -\n        links:\n          - l\n",
	} {
		f.Add([]byte(s))
	}
	for _, name := range []string{"testdata/example.yaml", "testdata/b4.yaml"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		agreesWithYAMLPath(t, decodeYAML, data)
	})
}

// randomCasesSmall are seeds small enough for the fuzzer to mutate.
func randomCasesSmall() []*Problem {
	p := RandomProblem(4, 3, Preferred, 7)
	p.FlowGroups[0].Children = []Child{{Name: "c", Demand: Limit(1e9), Function: PiecewiseFunction(Point{1, 2e9})}}
	return []*Problem{p, RandomProblem(3, 2, Split, 8)}
}

// TestParseLargeYAML: above YAMLLimit, YAML is read by the fast path only,
// and its first problem is positioned by line and column.
func TestParseLargeYAML(t *testing.T) {
	p := RandomProblem(8_000, 160, Split, 5)
	data := problemYAML(t, p, 0)
	if len(data) <= YAMLLimit {
		t.Fatalf("test problem is %d bytes, want > %d", len(data), YAMLLimit)
	}
	got, err := ParseProblem(bytes.NewReader(data), "big.yaml")
	if err != nil || len(got.FlowGroups) != 8_000 {
		t.Fatalf("valid large YAML: %v", err)
	}
	// An anchor on line 5, column 9: valid YAML the fast path leaves to
	// yaml.v3, which is not used at this size.
	bad := bytes.Replace(data, []byte("links:\n- name: "), []byte("links:\n- name: &x "), 1)
	_, err = ParseProblem(bytes.NewReader(bad), "big.yaml")
	want := "big.yaml: line 5: column 9: not a valid problem here (near \"&x "
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "a YAML problem over 2 MB is read by the fast reader only") {
		t.Fatalf("got %v, want %q", err, want)
	}
	// Only comments: nothing to read.
	y := append([]byte("# yaml\n"), bytes.Repeat([]byte(" "), YAMLLimit)...)
	if _, err := ParseProblem(bytes.NewReader(y), "big.yaml"); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("line 2: column %d: not a valid problem here (near the end of the input)", YAMLLimit+1)) {
		t.Fatalf("large empty YAML: got %v", err)
	}
}

// trickyScalars are spellings whose YAML type or value is easy to get
// wrong: YAML 1.1 booleans, nulls, hex/octal/binary, underscores, special
// floats, timestamps, units, quotes, indicators, comments.
var trickyScalars = []string{
	"a", "'a'", `"a"`, "yes", "no", "on", "~", "null", "Null", "", "''", `""`, "0x10", "0X10", "1e3", "1E3", "1.", ".5", "-1", "+1",
	"1_000", "10Gbps", "10 Gbps", "1.5e+09bps", "0bps", "0b1", "0o7", "012", "0.5", ".inf", "-.inf", ".nan", "inf", "NaN",
	"2001-01-01", "a:b", "a: b", "a #b", "a#b", "'a''b'", `"a\"b"`, "-", "- a", "-a", "[a]", "{a: b}", "&x a", "*x", "!!str 1",
	"|", ">", "1e400", "00", "0", "-0", "1e-5", "<<", "a b", "%a", "@a", "`a", "'1e9'", `"2Gbps"`, "2Gbps # c", "3kbit", "1Gbit/s",
	"a,b", "a]", "?a", ":a", "'a", `"a`, "a  b", "1 000", "1e9 bps", "5e", "0e5x", "1ebps",
}

// TestDecodeYAMLRandomDocuments builds problems from YAML pieces — tricky
// scalars in every value, block or flow collections at random indentation,
// comments and blank lines — and checks that whatever the fast path
// accepts, yaml.v3's path reads identically.
func TestDecodeYAMLRandomDocuments(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	trickyOdds := 8
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	scalar := func(good ...string) string {
		if r.IntN(trickyOdds) == 0 {
			return trickyScalars[r.IntN(len(trickyScalars))]
		}
		return pick(good...)
	}
	// list writes items as a block list (at the key's indentation or
	// deeper) or a flow list; item(ind) returns an item's lines for a
	// block list whose dash content starts at column ind, and its flow
	// form.
	var b strings.Builder
	line := func(ind int, s string) {
		b.WriteString(strings.Repeat(" ", ind) + s + pick("", "", "", " # c", "  ") + "\n")
		if r.IntN(12) == 0 {
			b.WriteString(pick("\n", "# x\n", strings.Repeat(" ", r.IntN(6))+"# y\n", "   \n"))
		}
	}
	type item struct {
		block func(ind int) // writes the item's value as a block node whose first line starts after "- " at column ind
		flow  string
	}
	list := func(key string, ind int, items []item) {
		if r.IntN(2) == 0 {
			fl := make([]string, len(items))
			for i, it := range items {
				fl[i] = it.flow
			}
			sep := pick(", ", ",", " ,", ",\n"+strings.Repeat(" ", ind+1+r.IntN(3)))
			line(ind, key+": ["+strings.Join(fl, sep)+"]")
			return
		}
		line(ind, key+":")
		dash := ind + pick3(r, 0, 2, 4)
		for _, it := range items {
			d := pick("- ", "-  ")
			b.WriteString(strings.Repeat(" ", dash) + d)
			it.block(dash + len(d))
		}
	}
	mapping := func(ind int, fields [][2]string) (func(int), string) {
		var fl []string
		for _, f := range fields {
			fl = append(fl, f[0]+": "+f[1])
		}
		return func(col int) {
			// The first key sits after the dash; the rest line up with it.
			for i, f := range fields {
				if i == 0 {
					b.WriteString(f[0] + ": " + f[1] + "\n")
					continue
				}
				line(col, f[0]+": "+f[1])
			}
		}, "{" + strings.Join(fl, pick(", ", ",  ")) + "}"
	}
	accepted := 0
	docs := 4000
	if v, err := strconv.Atoi(os.Getenv("YAMLDOCS")); err == nil {
		docs = v
	}
	for range docs {
		b.Reset()
		if r.IntN(4) == 0 {
			b.WriteString(pick("---\n", "# p\n---\n", "--- # p\n"))
		}
		line(0, "mode: "+scalar("split", "preferred", "'split'"))
		var links []item
		nl := 1 + r.IntN(2)
		for i := range nl {
			blk, fl := mapping(0, [][2]string{{"name", scalar(fmt.Sprintf("l%d", i), fmt.Sprintf("'l%d'", i))}, {"capacity", scalar("10Gbps", "1e10", "1.5e+10", "'5Gbps'", "1000000000")}})
			links = append(links, item{blk, fl})
		}
		list("links", 0, links)
		var fgs []item
		for i := range 1 + r.IntN(2) {
			fields := [][2]string{{"name", scalar(fmt.Sprintf("a%d", i), fmt.Sprintf("\"b%d\"", i), fmt.Sprintf("'c%d'", i))}}
			switch r.IntN(3) {
			case 0:
				fields = append(fields, [2]string{"weight", scalar("1", "2Gbps", "0.5", "1e9")})
			case 1:
				fields = append(fields, [2]string{"function", "[[" + scalar("0", "1", "'2'") + ", " + scalar("0", "1e9", "2Gbps") + "], [" + scalar("3", "4.5") + ", " + scalar("5Gbps", "6e9") + "]]"})
			default:
				fields = append(fields, [2]string{"function", "[[1, 1]]"}, [2]string{"demand", scalar("1Gbps", "~", "2e9", "null", "'3Gbps'")})
			}
			fields = append(fields, [2]string{"paths", "[{links: [" + scalar(fmt.Sprintf("l%d", r.IntN(nl))) + "], weight: " + scalar("1", "2", "0.5", "'3'") + "}]"})
			blk, fl := mapping(0, fields)
			fgs = append(fgs, item{blk, fl})
		}
		list("flow_groups", 0, fgs)
		if agreesWithYAMLPath(t, decodeYAML, []byte(b.String())) {
			accepted++
		}
	}
	// Most documents are valid and in the subset: if the fast path took
	// few, it refuses what it should read.
	if accepted < docs/10 {
		t.Fatalf("fast path accepted only %d of %d documents", accepted, docs)
	}
	t.Logf("fast path accepted %d of %d documents", accepted, docs)
}

func pick3(r *rand.Rand, a, b, c int) int { return []int{a, b, c}[r.IntN(3)] }
