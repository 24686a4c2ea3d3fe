package p4compile

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The TNA program's names are checked at the source level too, so that a
// change shows here without bf-p4c: every table of the contract must be
// declared in both programs with the same keys (name and match kind, in
// order), actions and default action, and every action with the same
// parameters. The v1model side is also covered by the P4Info tests; here it
// is the reference the TNA program is held to. The committed Tofino P4Infos
// are checked in names_test.go and tofino_test.go.

type srcTable struct {
	keys    []string // "name:kind"
	actions []string
	def     string
	size    string
}

var (
	reTable   = regexp.MustCompile(`(?m)^\s*table\s+(\w+)\s*\{`)
	reKey     = regexp.MustCompile(`:\s*(\w+)\s*@name\("(\w+)"\)`)
	reDefault = regexp.MustCompile(`default_action\s*=\s*(\w+)`)
	reSize    = regexp.MustCompile(`size\s*=\s*(\w+)`)
	reAction  = regexp.MustCompile(`(?m)^\s*action\s+(\w+)\s*\(([^)]*)\)`)
	reComment = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)
)

// block returns the text between the brace at open and its match.
func block(s string, open int) string {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[open+1 : i]
			}
		}
	}
	return s[open+1:]
}

func section(body, name string) string {
	i := regexp.MustCompile(`\b` + name + `\s*=\s*\{`).FindStringIndex(body)
	if i == nil {
		return ""
	}
	return block(body, i[1]-1)
}

func parseSource(t *testing.T, path string) (map[string]srcTable, map[string]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src := reComment.ReplaceAllString(string(data), "")
	tables := map[string]srcTable{}
	for _, m := range reTable.FindAllStringSubmatchIndex(src, -1) {
		name := src[m[2]:m[3]]
		body := block(src, m[1]-1)
		var tb srcTable
		for _, k := range reKey.FindAllStringSubmatch(section(body, "key"), -1) {
			if k[1] == "selector" {
				continue // selector inputs are not P4Runtime match fields
			}
			tb.keys = append(tb.keys, k[2]+":"+k[1])
		}
		for _, a := range strings.Split(section(body, "actions"), ";") {
			if a = strings.TrimSpace(a); a != "" {
				tb.actions = append(tb.actions, a)
			}
		}
		if d := reDefault.FindStringSubmatch(body); d != nil {
			tb.def = d[1]
		}
		if s := reSize.FindStringSubmatch(body); s != nil {
			tb.size = s[1]
		}
		tables[name] = tb
	}
	actions := map[string]string{}
	for _, m := range reAction.FindAllStringSubmatch(src, -1) {
		actions[m[1]] = strings.Join(strings.Fields(m[2]), " ")
	}
	return tables, actions
}

func TestTNANamesMatchV1model(t *testing.T) {
	v1Tables, v1Actions := parseSource(t, v1modelSource)
	tnaTables, tnaActions := parseSource(t, tnaSource)

	for _, want := range contractTables {
		short := want.name[strings.LastIndex(want.name, ".")+1:]
		v1, ok := v1Tables[short]
		if !ok {
			t.Errorf("v1model: table %s missing", short)
			continue
		}
		tna, ok := tnaTables[short]
		if !ok {
			t.Errorf("TNA: table %s missing", short)
			continue
		}
		var keys []string
		for _, f := range want.fields {
			keys = append(keys, f.name+":"+strings.ToLower(f.match.String()))
		}
		if !slices.Equal(v1.keys, keys) {
			t.Errorf("v1model %s keys %v, contract %v", short, v1.keys, keys)
		}
		if !slices.Equal(tna.keys, v1.keys) || !slices.Equal(tna.actions, v1.actions) || tna.def != v1.def || tna.size != v1.size {
			t.Errorf("table %s differs:\n  v1model %+v\n  TNA     %+v", short, v1, tna)
		}
		for _, a := range v1.actions {
			if a == "NoAction" {
				continue
			}
			if v1Actions[a] != tnaActions[a] {
				t.Errorf("action %s: v1model (%s), TNA (%s)", a, v1Actions[a], tnaActions[a])
			}
		}
	}
	if len(tnaTables) != len(contractTables) {
		t.Errorf("TNA program declares %d tables, the contract %d", len(tnaTables), len(contractTables))
	}

	// Externs of the contract, by declaration text.
	tna, _ := os.ReadFile(tnaSource)
	for _, decl := range []string{
		`Meter<bit<8>>(QOS_CLASSES, MeterType_t.BYTES) class_meter;`,
		`DirectMeter(MeterType_t.BYTES) reservation_meter;`,
		`) ecmp_selector;`,
		`(QOS_CLASSES, CounterType_t.PACKETS_AND_BYTES) class_counter;`,
		`(QUEUE_COUNTERS, CounterType_t.PACKETS_AND_BYTES) queue_counter;`,
	} {
		if !strings.Contains(string(tna), decl) {
			t.Errorf("TNA program lacks %q", decl)
		}
	}
}
