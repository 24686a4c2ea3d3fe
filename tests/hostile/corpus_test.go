package hostile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// input is one hostile input: a file (or special path) and, for slots that
// read standard input, what to feed it.
type input struct {
	name string
	path string
}

// mutation derives a hostile document from a valid one.
type mutation struct {
	name string
	make func(base []byte) []byte
}

var (
	scalarValue = regexp.MustCompile(`(:[ \t]+)([^\s{}\[\],#&*!|>'"][^,}\]\n#]*)`)
	number      = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)?\b`)
	listItem    = regexp.MustCompile(`(?m)^(\s*- )\S.*$`)
)

func replaceValues(re *regexp.Regexp, repl string) func([]byte) []byte {
	return func(b []byte) []byte { return re.ReplaceAll(b, []byte(repl)) }
}

func repeat(prefix, unit, suffix string, n int) []byte {
	return []byte(prefix + strings.Repeat(unit, n) + suffix)
}

// textMutations apply to YAML-like documents (policy, topology, problem,
// flows, YAML config).
func textMutations() []mutation {
	const long = 300_000
	return []mutation{
		{"empty", func([]byte) []byte { return nil }},
		{"truncated-1of8", func(b []byte) []byte { return b[:len(b)/8] }},
		{"truncated-3of8", func(b []byte) []byte { return b[:3*len(b)/8] }},
		{"truncated-5of8", func(b []byte) []byte { return b[:5*len(b)/8] }},
		{"truncated-7of8", func(b []byte) []byte { return b[:7*len(b)/8] }},
		{"null-values", replaceValues(scalarValue, "${1}~")},
		{"null-words", replaceValues(scalarValue, "${1}null")},
		{"null-items", replaceValues(listItem, "${1}~")},
		{"empty-values", replaceValues(scalarValue, "${1}")},
		{"nan", replaceValues(number, ".nan")},
		{"inf", replaceValues(number, "-.inf")},
		{"huge-float", replaceValues(number, "1e400")},
		{"huge-int", replaceValues(number, "99999999999999999999999999999")},
		{"negative", replaceValues(number, "-1")},
		{"hex-min-int", replaceValues(number, "-0x8000000000000000")},
		{"lists-for-scalars", replaceValues(scalarValue, "${1}[]")},
		{"maps-for-scalars", replaceValues(scalarValue, "${1}{}")},
		{"long-first-value", func(b []byte) []byte {
			loc := scalarValue.FindSubmatchIndex(b)
			if loc == nil {
				return b
			}
			return append(append(append([]byte{}, b[:loc[4]]...), bytes.Repeat([]byte{'x'}, long)...), b[loc[5]:]...)
		}},
		{"long-key", func(b []byte) []byte { return append(repeat("", "k", ": 1\n", long), b...) }},
		{"deep-flow-lists", func([]byte) []byte { return repeat("a: ", "[", "", 100_000) }},
		{"deep-flow-maps", func([]byte) []byte { return repeat("", "{a: ", "1", 100_000) }},
		{"deep-block-lists", func([]byte) []byte { return repeat("", "- ", "x\n", 100_000) }},
		{"deep-9999", func([]byte) []byte { return repeat("a: ", "[", strings.Repeat("]", 9_999), 9_999) }},
		{"deep-indented-maps", func([]byte) []byte {
			var s strings.Builder
			for i := 0; i < 1500; i++ {
				s.WriteString(strings.Repeat(" ", i) + "a:\n")
			}
			return []byte(s.String())
		}},
		{"alias-bomb", func([]byte) []byte {
			var s strings.Builder
			s.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
			for i := 1; i < 12; i++ {
				fmt.Fprintf(&s, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
			}
			return []byte(s.String())
		}},
		{"self-alias", func([]byte) []byte { return []byte("a: &a [*a]\n") }},
		{"merge-keys", func(b []byte) []byte { return append([]byte("x: &x {a: 1}\n<<: *x\n"), b...) }},
		{"tags", func(b []byte) []byte { return replaceValues(scalarValue, "${1}!!binary AAAA")(b) }},
		{"two-documents", func(b []byte) []byte { return append(append(append([]byte{}, b...), "\n---\n"...), b...) }},
		{"doubled", func(b []byte) []byte { return append(append([]byte{}, b...), b...) }},
		{"nul-bytes", func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(" "), []byte{0}) }},
		{"invalid-utf8", func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("a"), []byte{0xff, 0xfe}) }},
		{"tabs", func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("  "), []byte("\t")) }},
		{"crlf", func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }},
		{"bom", func(b []byte) []byte { return append([]byte("\xef\xbb\xbf"), b...) }},
		{"json-array", func([]byte) []byte { return []byte(`[1, "two", {"three": [null]}]`) }},
		{"scalar-document", func([]byte) []byte { return []byte("just a string\n") }},
	}
}

// sizeMutations are the files around a slot's size cap.
func sizeMutations(limit int64, denseKey string) []mutation {
	pad := func(b []byte, size int64) []byte {
		out := append([]byte{}, b...)
		out = append(out, "\n#"...)
		for int64(len(out)) < size-1 {
			out = append(out, ' ')
		}
		return append(out, '\n')[:size]
	}
	dense := func(unit string) []byte {
		n := (int(limit) - len(denseKey) - 8) / len(unit)
		return []byte(denseKey + ": [" + strings.Repeat(unit, n) + "1]\n")
	}
	return []mutation{
		{"padded-to-the-cap", func(b []byte) []byte { return pad(b, limit) }},
		{"one-byte-over-the-cap", func(b []byte) []byte { return pad(b, limit+1) }},
		{"3x-the-cap", func(b []byte) []byte { return pad(b, 3*limit) }},
		{"dense-scalars-at-the-cap", func([]byte) []byte { return dense("1,") }},
		{"dense-maps-at-the-cap", func([]byte) []byte { return dense("{},") }},
	}
}

// randomMutations makes n randomly damaged copies of base (seeded, so a
// failure reproduces).
func randomMutations(n int, seed uint64) []mutation {
	tokens := []string{"~", "[", "]", "{", "}", "&a ", "*a", "!!binary ", "<<: *a", ": ", "- ", "'", `"`, "\t", ".nan", "1e999", "-1", "\x00", "\xff", "\n", "#", "|", ">", "?", "%YAML 1.1\n", "---\n", "@", "`"}
	var out []mutation
	for i := 0; i < n; i++ {
		i := i
		out = append(out, mutation{fmt.Sprintf("random-%d", i), func(b []byte) []byte {
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			b = append([]byte{}, b...)
			for k := 1 + r.IntN(8); k > 0 && len(b) > 0; k-- {
				at := r.IntN(len(b))
				switch r.IntN(5) {
				case 0: // flip a byte
					b[at] = byte(r.IntN(256))
				case 1: // insert a token
					tok := tokens[r.IntN(len(tokens))]
					b = append(b[:at], append([]byte(tok), b[at:]...)...)
				case 2: // delete a span
					end := min(len(b), at+1+r.IntN(40))
					b = append(b[:at], b[end:]...)
				case 3: // duplicate a span
					end := min(len(b), at+1+r.IntN(200))
					b = append(b[:end], append(append([]byte{}, b[at:end]...), b[end:]...)...)
				case 4: // swap two lines
					lines := bytes.Split(b, []byte("\n"))
					x, y := r.IntN(len(lines)), r.IntN(len(lines))
					lines[x], lines[y] = lines[y], lines[x]
					b = bytes.Join(lines, []byte("\n"))
				}
			}
			return b
		}})
	}
	return out
}

// binaryInputs are garbage of a few shapes.
func binaryInputs(seed uint64) []mutation {
	return []mutation{
		{"random-bytes-64KB", func([]byte) []byte {
			r := rand.New(rand.NewPCG(seed, 1))
			b := make([]byte, 64<<10)
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			return b
		}},
		{"zeros-1MB", func([]byte) []byte { return make([]byte, 1<<20) }},
		{"ones", func([]byte) []byte { return bytes.Repeat([]byte{0xff}, 4096) }},
	}
}

// specialPaths are paths that are not regular files.
func specialPaths(t *testing.T, dir string) []input {
	t.Helper()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	sub := filepath.Join(dir, "a-directory")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "symlink-loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(dir, "name\nwith\x1b[31mescapes")
	if err := os.WriteFile(odd, []byte("classes: [{name: x, phb: XX}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "unreadable")
	if err := os.WriteFile(unreadable, []byte("a: 1\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	return []input{
		{"fifo", fifo},
		{"/dev/zero", "/dev/zero"},
		{"/dev/urandom", "/dev/urandom"},
		{"/dev/null", "/dev/null"},
		{"directory", sub},
		{"missing", filepath.Join(dir, "no-such-file.yaml")},
		{"symlink-loop", loop},
		{"odd-name", odd},
		{"unreadable", unreadable},
		{"long-path", "/" + strings.Repeat("x", 100_000)},
		{"empty-path", ""},
	}
}

// p4infoMutations are the text-format P4Info's own damages.
func p4infoMutations() []mutation {
	field := regexp.MustCompile(`bitwidth: [0-9]+`)
	id := regexp.MustCompile(`id: [0-9]+`)
	size := regexp.MustCompile(`size: [0-9]+`)
	return []mutation{
		{"bitwidth-100000", func(b []byte) []byte { return field.ReplaceAll(b, []byte("bitwidth: 100000")) }},
		{"bitwidth-0", func(b []byte) []byte { return field.ReplaceAll(b, []byte("bitwidth: 0")) }},
		{"bitwidth-negative", func(b []byte) []byte { return field.ReplaceAll(b, []byte("bitwidth: -5")) }},
		{"ids-zero", func(b []byte) []byte { return id.ReplaceAll(b, []byte("id: 0")) }},
		{"ids-equal", func(b []byte) []byte { return id.ReplaceAll(b, []byte("id: 1")) }},
		{"size-huge", func(b []byte) []byte { return size.ReplaceAll(b, []byte("size: 9223372036854775807")) }},
		{"size-negative", func(b []byte) []byte { return size.ReplaceAll(b, []byte("size: -1")) }},
		{"empty-tables", func([]byte) []byte { return bytes.Repeat([]byte("tables { }\n"), 300_000) }},
		{"nested-unknown", func([]byte) []byte { return repeat("", "tables { preamble { ", "", 50_000) }},
	}
}
