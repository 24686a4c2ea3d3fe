package yamlerr

import "testing"

func TestSuggest(t *testing.T) {
	levels := []string{"debug", "info", "warn", "error"}
	for _, tt := range []struct {
		got   string
		known []string
		want  string
	}{
		{"debg", levels, `; did you mean "debug"?`},
		{"WARN", levels, `; did you mean "warn"?`},
		{"verbose", levels, ""},
		{"reconcile_interval", []string{"reconcile-interval", "timeout"}, `; did you mean "reconcile-interval"?`},
		{"EG", []string{"AF11", "CS0", "DF", "EF"}, `; did you mean "EF"?`},
		{"x", []string{"DF", "EF"}, ""}, // two edits of a two-letter name is no typo
		{"smi", []string{"bmv2", "tofino", "sim"}, `; did you mean "sim"?`},
		{"", nil, ""},
	} {
		if got := Suggest(tt.got, tt.known); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.got, got, tt.want)
		}
	}
}

func TestOneOf(t *testing.T) {
	for in, want := range map[int]string{0: "", 1: "a", 2: "a or b", 3: "a, b or c"} {
		if got := OneOf([]string{"a", "b", "c"}[:in]); got != want {
			t.Errorf("OneOf(%d) = %q, want %q", in, got, want)
		}
	}
}
