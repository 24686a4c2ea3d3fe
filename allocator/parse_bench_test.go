package allocator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"gopkg.in/yaml.v3"
)

// BenchmarkParseProblem reads the same random problem as JSON and as YAML
// (yaml.v3's own output for it) through ParseProblem, and as YAML through
// the node tree alone (parseYAML), the path YAML took before decodeYAML:
// in-process, without the command's start-up and output
// (tests/perf BenchmarkAllocateCommand measures the whole process).
func BenchmarkParseProblem(b *testing.B) {
	for _, n := range []int{5_000, 50_000} {
		p := RandomProblem(n, max(n/50, 10), Split, 1)
		js, err := json.Marshal(p)
		if err != nil {
			b.Fatal(err)
		}
		var generic any
		if err := json.Unmarshal(js, &generic); err != nil {
			b.Fatal(err)
		}
		ys, err := yaml.Marshal(generic)
		if err != nil {
			b.Fatal(err)
		}
		run := func(name string, data []byte, parse func([]byte) (*Problem, error)) {
			b.Run(fmt.Sprintf("%s/fgs=%d", name, n), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := parse(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		parse := func(data []byte) (*Problem, error) { return ParseProblem(bytes.NewReader(data), "p") }
		run("json", js, parse)
		run("yaml", ys, parse)
		if len(ys) <= YAMLLimit {
			run("yaml-node-tree", ys, func(data []byte) (*Problem, error) { return parseYAML(data, "p") })
		}
	}
}
