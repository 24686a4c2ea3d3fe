package yamlerr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

type inner struct {
	N    int      `yaml:"n"`
	Tags []string `yaml:"tags,single"`
}

type outer struct {
	Name  string            `yaml:"name"`
	On    bool              `yaml:"on"`
	Rate  float64           `yaml:"rate"`
	Port  uint16            `yaml:"port"`
	Items []*inner          `yaml:"items"`
	Opt   *inner            `yaml:"opt"`
	M     map[string]int    `yaml:"m"`
	Any   map[string]string `yaml:"any"`
}

func TestDecodeCollectsEverything(t *testing.T) {
	src := `name: x
on: yes
rate: fast
port: 70000
items:
  - {n: 1, tags: a}
  - {n: two, tags: [b, c], extra: 1}
opt: [1]
m: {a: 1, a: 2}
name: y
`
	doc, err := Parse("f.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var o outer
	errs := doc.Decode(&o)
	errs.Sort()
	// Columns counted by hand: in "  - {n: two, tags: [b, c], extra: 1}"
	// "two" starts at 9 and "extra" at 28; in "m: {a: 1, a: 2}" the second
	// "a" is at 11.
	want := []string{
		`f.yaml:2:5: on: expected true or false, got "yes"`,
		`f.yaml:3:7: rate: expected a number, got "fast"`,
		`f.yaml:4:7: port: expected an integer from 0 to 65535, got "70000"`,
		`f.yaml:7:9: items[1].n: expected an integer (64-bit), got "two"`,
		`f.yaml:7:28: items[1].extra: unknown key "extra" (expected one of: n, tags)`,
		`f.yaml:8:6: opt: expected a mapping, got a list`,
		`f.yaml:9:11: m.a: duplicate key "a"`,
		`f.yaml:10:1: name: duplicate key "name"`,
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors:\n%v", len(errs), errs)
	}
	for i := range want {
		if errs[i].Error() != want[i] {
			t.Errorf("error %d:\n got %s\nwant %s", i, errs[i], want[i])
		}
	}
	// What decoded is kept: the single value became a one-element list.
	if o.Name != "x" || len(o.Items) != 2 || len(o.Items[0].Tags) != 1 || o.Items[0].Tags[0] != "a" || o.M["a"] != 1 {
		t.Errorf("decoded %+v %+v", o, o.Items[0])
	}
}

func TestAliasBomb(t *testing.T) {
	// Ten levels of ten aliases: 10^10 nodes if expanded.
	var b strings.Builder
	b.WriteString("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	doc, err := Parse("bomb.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	var out bomb
	errs := doc.Decode(&out)
	found := false
	for _, e := range errs {
		if strings.Contains(e.Msg, "aliases too much") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no alias budget error: %v", errs)
	}
}

// bomb types each level of the alias bomb, so that only the expansion
// (not a type mismatch) can stop the decoder.
type bomb struct {
	L0 []string                   `yaml:"l0"`
	L1 [][]string                 `yaml:"l1"`
	L2 [][][]string               `yaml:"l2"`
	L3 [][][][]string             `yaml:"l3"`
	L4 [][][][][]string           `yaml:"l4"`
	L5 [][][][][][]string         `yaml:"l5"`
	L6 [][][][][][][]string       `yaml:"l6"`
	L7 [][][][][][][][]string     `yaml:"l7"`
	L8 [][][][][][][][][]string   `yaml:"l8"`
	L9 [][][][][][][][][][]string `yaml:"l9"`
}

func TestLocateAndHas(t *testing.T) {
	doc, err := Parse("f.yaml", []byte("a:\n  b: [10, 20]\n  \"x.y\": 1\nc: {d: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path      string
		line, col int
		has       bool
	}{
		{"a.b[1]", 2, 11, true},
		{"a.b[5]", 2, 6, false}, // nearest ancestor: the list
		{Key("a", "x.y"), 3, 10, true},
		{"c.d", 4, 8, true},
		{"c.e", 4, 4, false},
		{"c[0]", 4, 4, true}, // a single value stands for a one-element list
	}
	for _, tc := range tests {
		e := doc.Errorf(tc.path, "m")
		if e.Line != tc.line || e.Column != tc.col || doc.Has(tc.path) != tc.has {
			t.Errorf("%s: at %d:%d has=%v, want %d:%d has=%v", tc.path, e.Line, e.Column, doc.Has(tc.path), tc.line, tc.col, tc.has)
		}
	}
}

func TestListHelpers(t *testing.T) {
	var l List
	if l.Err() != nil {
		t.Fatal("empty list must be a nil error")
	}
	l.Add(&Error{File: "b", Line: 1, Msg: "x"})
	l.Add(&Error{File: "a", Line: 9, Column: 2, Path: "p", Msg: "y"})
	l.Append(errors.New("plain"))
	err := l.Err()
	want := "plain\na:9:2: p: y\nb:1: x"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
	var back List
	if !errors.As(fmt.Errorf("wrapped: %w", err), &back) || len(back) != 3 {
		t.Errorf("errors.As through wrapping failed")
	}
	decode := List{{Path: "classes[1].phb"}}
	sem := List{{Path: "classes[1].phb"}, {Path: "classes[1].phb.x"}, {Path: "classes[1]"}, {Path: "classes[10].phb"}}
	kept := sem.Without(decode)
	if len(kept) != 2 || kept[0].Path != "classes[1]" || kept[1].Path != "classes[10].phb" {
		t.Errorf("Without kept %v", kept)
	}
}

func TestParseRejects(t *testing.T) {
	for _, src := range []string{"a: [", "a: 1\n---\nb: 2\n", "\t- x"} {
		if _, err := Parse("f", []byte(src)); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
	doc, err := Parse("f", nil)
	if err != nil || doc.Root() != nil {
		t.Errorf("empty input: %v", err)
	}
}

func TestCompact(t *testing.T) {
	src := []byte("a:\n  b: [10, 20]\n")
	doc, err := Parse("f.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	doc.Compact(src)
	src[0] = 'X' // the document keeps its own copy
	if doc.Root() != nil {
		t.Error("root kept after Compact")
	}
	e := doc.Errorf("a.b[1]", "m")
	if e.Line != 2 || e.Column != 11 || !doc.Has("a.b") {
		t.Errorf("after Compact: %v", e)
	}
}

func TestQuote(t *testing.T) {
	long := strings.Repeat("a", 303_000)
	tests := []struct{ in, want string }{
		{"EF", `"EF"`},
		{strings.Repeat("é", MaxQuoted), strconv.Quote(strings.Repeat("é", MaxQuoted))},
		{long, `"` + strings.Repeat("a", MaxQuoted) + `"…(303000 bytes)`},
		{strings.Repeat("é", MaxQuoted+1), strconv.Quote(strings.Repeat("é", MaxQuoted)) + "…(130 bytes)"},
		{"\xff\x00", `"\xff\x00"`},
	}
	for _, tc := range tests {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%.20q…) = %.100s, want %.100s", tc.in, got, tc.want)
		}
	}
}

// A document with an error per node yields MaxErrors errors and one more
// that says so, and decoding stops there.
func TestReliability_ErrorListIsBounded(t *testing.T) {
	src := "items: [" + strings.Repeat("1, ", 100_000) + "]\n"
	doc, err := Parse("f.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var o outer
	errs := doc.Decode(&o)
	if len(errs) != MaxErrors+1 {
		t.Fatalf("got %d errors, want %d", len(errs), MaxErrors+1)
	}
	if last := errs[len(errs)-1]; !strings.Contains(last.Msg, "more than 200 problems") {
		t.Errorf("last error: %v", last)
	}
}

// null is an error for every kind of value, not the zero value: a present
// key always has a value after decoding.
func TestReliability_NullIsAnError(t *testing.T) {
	doc, err := Parse("f.yaml", []byte("name: ~\non: null\nrate:\nitems: [~]\nopt: ~\nm: {a: ~}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var o outer
	errs := doc.Decode(&o)
	errs.Sort()
	want := []string{
		"f.yaml:1:7: name: expected a string, got null (leave the key out for the default)",
		"f.yaml:2:5: on: expected true or false, got null (leave the key out for the default)",
		"f.yaml:3:6: rate: expected a number, got null (leave the key out for the default)",
		"f.yaml:4:9: items[0]: expected a mapping, got null",
		"f.yaml:5:6: opt: expected a mapping, got null (leave the key out for the default)",
		"f.yaml:6:8: m.a: expected an integer, got null (leave the key out for the default)",
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors:\n%v", len(errs), errs)
	}
	for i := range want {
		if errs[i].Error() != want[i] {
			t.Errorf("error %d:\n got %s\nwant %s", i, errs[i], want[i])
		}
	}
}
