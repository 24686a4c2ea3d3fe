package compiler

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// TestDocExample keeps docs/policy.md and the demo policy from drifting: the
// doc embeds the file verbatim, and the file parses.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin = "<!-- BEGIN topo/examples/fabric-policy.yaml -->\n```yaml\n"
	const end = "```\n<!-- END topo/examples/fabric-policy.yaml -->"
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("docs/policy.md lacks the embedded example markers")
	}
	embedded := s[i+len(begin) : j]
	file, err := os.ReadFile(filepath.Join(examplesPath, "fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if embedded != string(file) {
		t.Fatal("the example in docs/policy.md differs from topo/examples/fabric-policy.yaml; copy the file into the doc")
	}
	p, err := ParsePolicy("docs/policy.md", []byte(embedded))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Classes) != 7 || len(p.Tenants) != 2 {
		t.Errorf("got %d classes, %d tenants", len(p.Classes), len(p.Tenants))
	}
}

func TestParseDefaults(t *testing.T) {
	p, err := ParsePolicy("p.yaml", []byte("classes:\n  - {name: a, phb: AF21}\n  - {name: b, phb: EF, precedence: 7, match: {dscp: 46}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 1 || p.ClassifyAt != "edge" || p.Routing.Mode != "ecmp" || p.Routing.MaxPaths != 16 {
		t.Errorf("defaults: %+v %+v", p, p.Routing)
	}
	a, b := p.Classes[0], p.Classes[1]
	if a.ID != 1 || b.ID != 2 {
		t.Errorf("ids %d %d, want 1 2 (file order)", a.ID, b.ID)
	}
	if a.Precedence != DefaultPrecedence || b.Precedence != 7 {
		t.Errorf("precedence %d %d", a.Precedence, b.Precedence)
	}
	if len(a.Match) != 1 || a.Match[0].Src != nil || a.Match[0].DSCP != nil {
		t.Errorf("no match should mean one match-all, got %+v", a.Match)
	}
	if b.PHB.DSCP != 46 || *b.Match[0].DSCP != 46 {
		t.Errorf("EF: %+v", b.PHB)
	}
}

// TestParseErrors: each case is a broken policy and the errors it must
// produce, each at the position of the token named (found in the source,
// not copied from output).
func TestParseErrors(t *testing.T) {
	type want struct {
		line  int
		token string // the error's column is where this token starts
		path  string
		msg   string
	}
	tests := []struct {
		name string
		src  string
		want []want
	}{
		{"unknown key and bad DSCP", `classes:
  - name: a
    phb: EF
    match: {dscp: 64, dst_prot: 80}
`, []want{
			{4, "64", "classes[0].match[0].dscp", "DSCP must be 0..63"},
			{4, "dst_prot", "classes[0].match[0].dst_prot", `unknown key "dst_prot"`},
		}},
		{"meter ranges", `classes:
  - name: a
    phb: AF11
    meter: {cir: 10Mbps, pir: 5Mbps, cbs: 0}
  - name: b
    phb: AF11
    meter: {from: allocator}
  - name: c
    phb: AF11
    meter: {pir: 1Mbps}
    colors: {yellow: purple}
`, []want{
			{4, "5Mbps", "classes[0].meter.pir", "pir 5Mbps is below cir 10Mbps"},
			{4, "0}", "classes[0].meter.cbs", "expected a burst > 0"},
			{7, "{from", "classes[1].meter", "exactly one of flow_group or tenant"},
			{10, "{pir", "classes[2].meter", "missing cir"},
			{11, "purple", "classes[2].colors.yellow", "expected keep, drop or a DSCP"},
		}},
		{"missing and duplicate", `classes:
  - {match: {protocol: tcp}}
  - {name: x, phb: DF}
  - {name: x, phb: XF}
`, []want{
			{2, "{match", "classes[0]", "missing name"},
			{2, "{match", "classes[0]", "missing phb"},
			{4, "x,", "classes[2].name", `duplicate class name "x"`},
			{4, "XF", "classes[2].phb", "expected a PHB"},
		}},
		{"never hits", `classes:
  - name: a
    phb: DF
    match:
      - {src: 10.0.0.0/8, dst: "2001:db8::/32"}
      - {protocol: icmp, dst_port: 80}
      - {src: 10.1.1.1/16}
      - {dst_port: 100-99}
`, []want{
			{5, "{src", "classes[0].match[0]", "src is IPv4 but dst is IPv6"},
			{6, "80", "classes[0].match[1].dst_port", "protocol 1 has no ports"},
			{7, "10.1.1.1", "classes[0].match[2].src", "has host bits set; did you mean 10.1.0.0/16"},
			{8, "100-99", "classes[0].match[3].dst_port", "empty port range 100-99"},
		}},
		{"tenants", `tenants:
  - name: t
    weight: 0
    function: [[0, 0], [1, 5Mbps]]
    flow_groups:
      - {name: f, src: h1, dst: h1}
      - {name: f, src: h1}
  - name: u
classes:
  - {name: c, phb: EF, meter: {from: allocator, flow_group: nope}}
routing: {mode: wcmp, max_paths: 0}
`, []want{
			{2, "name: t", "tenants[0]", "give weight or function, not both"},
			{3, "0", "tenants[0].weight", "expected a weight > 0"},
			{6, "h1}", "tenants[0].flow_groups[0].dst", "src and dst are the same host"},
			{7, "{name", "tenants[0].flow_groups[1]", "missing dst"},
			{7, "f,", "tenants[0].flow_groups[1].name", `duplicate flow group name "f"`},
			{8, "name: u", "tenants[1]", "neither children nor flow_groups"},
			{10, "nope", "classes[0].meter.flow_group", `unknown flow group "nope"`},
		}},
		{"function shape", `tenants:
  - name: t
    function: [[0, 0], [2, 5Mbps], [1, 6Mbps]]
    flow_groups: [{name: f, src: a, dst: b, function: [[0, 1Mbps]]}]
`, []want{
			{3, "[[0", "tenants[0].function", "point 2: fair shares must increase"},
			{4, "[[0, 1", "tenants[0].flow_groups[0].function", "starts at (0, 0)"},
		}},
		{"queues", `queues:
  dscp: {EF: 8, XX: 1}
  ports:
    - {switch: s1, queue: 9, ecn_threshold: 5}
    - {port: 3}
`, []want{
			{2, "8", `queues.dscp.EF`, "expected a queue 0..7, got 8"},
			{2, "1}", `queues.dscp.XX`, "expected a DSCP name"},
			{4, "9", "queues.ports[0].queue", "expected a queue 0..7"},
			{5, "{port", "queues.ports[1]", "nothing to set"},
		}},
		// yaml.v3 reports an unclosed flow sequence at its line, 1.
		{"syntax", "classes: [\n", []want{{1, "", "", "YAML syntax"}}},
		{"not a mapping", "- a\n- b\n", []want{{1, "- a", "", "expected a mapping"}}},
		{"alias bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nclasses: [*c]\n",
			[]want{{1, "a:", "a", "unknown key"}, {2, "b:", "b", "unknown key"}, {3, "c:", "c", "unknown key"}, {4, "*c", "classes[0]", "expected a mapping"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePolicy("p.yaml", []byte(tc.src))
			var list yamlerr.List
			if !errors.As(err, &list) {
				t.Fatalf("want a yamlerr.List, got %T: %v", err, err)
			}
			lines := strings.Split(tc.src, "\n")
			var want []string
			for _, w := range tc.want {
				col := 0
				if w.token != "" && w.line <= len(lines) {
					col = strings.Index(lines[w.line-1], w.token) + 1
					if col == 0 {
						t.Fatalf("token %q not on line %d", w.token, w.line)
					}
				}
				pos := "p.yaml:" + strconv.Itoa(w.line) + ":"
				if col > 0 {
					pos += strconv.Itoa(col) + ":"
				}
				path := ""
				if w.path != "" {
					path = w.path + ": "
				}
				want = append(want, pos+" "+path)
			}
			if len(list) != len(tc.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(list), len(tc.want), list)
				return
			}
			for i, e := range list {
				if !strings.HasPrefix(e.Error(), want[i]) || !strings.Contains(e.Msg, tc.want[i].msg) {
					t.Errorf("error %d:\n got %s\nwant %s…%s…", i, e, want[i], tc.want[i].msg)
				}
			}
		})
	}
}

func TestDefaultQueueMap(t *testing.T) {
	// The documented map, written out from the table in docs/policy.md.
	want := map[string]uint8{
		"EF": 7, "VOICE-ADMIT": 7, "CS6": 6, "CS7": 6,
		"AF41": 5, "AF42": 5, "AF43": 5, "CS4": 5, "CS5": 5,
		"AF31": 4, "AF32": 4, "AF33": 4, "CS3": 4,
		"AF21": 3, "AF22": 3, "AF23": 3, "CS2": 3,
		"AF11": 2, "AF12": 2, "AF13": 2,
		"DF": 1, "63": 1, "5": 1,
		"CS1": 0, "LE": 0,
	}
	for name, q := range want {
		d, err := ParseDSCP(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := DefaultQueue(d); got != q {
			t.Errorf("%s (%d): queue %d, want %d", name, d, got, q)
		}
	}
}

func TestDefaultColors(t *testing.T) {
	tests := []struct{ phb, yellow, red string }{
		{"AF11", "remark:AF12", "remark:AF13"},
		{"AF32", "remark:AF32", "remark:AF33"},
		{"AF43", "remark:AF43", "remark:AF43"},
		{"EF", "keep", "drop"},
		{"CS5", "keep", "keep"},
		{"DF", "keep", "keep"},
	}
	for _, tc := range tests {
		d, _ := ParseDSCP(tc.phb)
		y, r := defaultColors(PHB{Name: tc.phb, DSCP: d})
		if y.String() != tc.yellow || r.String() != tc.red {
			t.Errorf("%s: yellow %s red %s, want %s %s", tc.phb, y, r, tc.yellow, tc.red)
		}
	}
}
