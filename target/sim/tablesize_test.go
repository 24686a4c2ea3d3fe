package sim

import (
	"strings"
	"testing"
)

func TestParseTableSize(t *testing.T) {
	for _, tt := range []struct{ in, err string }{
		{"classifier=2", ""},
		{"QosIngress.classifier=0", ""},
		{"pipe.QosIngress.ipv4_lpm=10", ""},
		{"clasifier=2", `no table "clasifier" in the qos pipeline; did you mean "classifier"?`},
		{"nosuch=2", `no table "nosuch" in the qos pipeline (tables: classifier, `},
		{"classifier=-1", "want name=N with N >= 0"},
		{"classifier", "want name=N with N >= 0"},
		{"=3", "want name=N with N >= 0"},
	} {
		o, err := ParseTableSize(tt.in)
		switch {
		case tt.err == "" && (err != nil || o == nil):
			t.Errorf("%s: %v", tt.in, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want %q", tt.in, err, tt.err)
		}
	}
}
