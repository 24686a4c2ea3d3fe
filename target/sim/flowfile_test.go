package sim

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseFlowFile(t *testing.T) {
	ff, err := ParseFlowFile("f.yaml", []byte("flows:\n  - {name: a, switch: leaf1, src: 10.0.0.1, dst: 10.0.0.2, rate: 5Mbps, dport: 80, proto: tcp, packet_size: 1000B}\n"))
	if err != nil || len(ff) != 1 || ff[0].Switch != "leaf1" || ff[0].Flow.Proto != 6 || ff[0].Flow.RateBps != 5e6 || ff[0].Flow.PacketSize != 1000 {
		t.Fatalf("parsed %+v, %v", ff, err)
	}
	for _, tc := range []struct{ in, want string }{
		{"flows:\n  - {name: a, src: 10.0.0.1, dst: 10.0.0.2, rate: 5Mbps, bogus: 1}\n", `f.yaml:2:58: flows[0].bogus: unknown key "bogus"`},
		{"flows:\n  - {name: b, src: nope, dst: 10.0.0.2, rate: 5Mbps}\n", "f.yaml:2:5: flows[0]: flow \"b\": src:"},
		{"flows:\n  - {name: c, src: 10.0.0.1, dst: 10.0.0.2, rate: 5Mbps, dport: 70000}\n", "f.yaml:2:65: flows[0].dport: expected an integer from 0 to 65535"},
		{"flows:\n  - {name: d, src: 10.0.0.1, dst: 10.0.0.2}\n", "rate is required"},
	} {
		if _, err := ParseFlowFile("f.yaml", []byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.in, err, tc.want)
		}
	}
}

// Finding of the hostile corpus: a flow file of many bad items printed one
// line per item (55 MB for a 2 MB file). The list now stops at a bound.
func TestReliability_FlowFileErrorsAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("flows:\n")
	for i := range 20000 {
		fmt.Fprintf(&b, "  - {name: f%d, src: x, dst: y, rate: 1Mbps}\n", i)
	}
	_, err := ParseFlowFile("f.yaml", []byte(b.String()))
	if err == nil {
		t.Fatal("accepted")
	}
	if n := strings.Count(err.Error(), "\n"); n > 250 {
		t.Errorf("%d error lines for 20,000 bad flows", n)
	}
}
