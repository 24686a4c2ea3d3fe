package tables

import (
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

func TestMatchValue(t *testing.T) {
	field := func(name string, w int32) *p4configv1.MatchField {
		return &p4configv1.MatchField{Id: 1, Name: name, Bitwidth: w}
	}
	ternary := func(v, m []byte) *p4v1.FieldMatch {
		return &p4v1.FieldMatch{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: v, Mask: m}}}
	}
	for _, tc := range []struct {
		name  string
		f     *p4configv1.MatchField
		m     *p4v1.FieldMatch
		value string
	}{
		{"ipv4 prefix mask", field("ipv4_src", 32), ternary([]byte{10, 1, 0, 0}, []byte{255, 255, 0, 0}), "10.1.0.0/16"},
		{"ipv4 full mask", field("ipv4_dst", 32), ternary([]byte{10, 0, 2, 3}, []byte{255, 255, 255, 255}), "10.0.2.3"},
		{"ipv4 other mask", field("ipv4_dst", 32), ternary([]byte{10, 0, 0, 1}, []byte{255, 0, 0, 255}), "10.0.0.1&&&0xff0000ff"},
		{"ipv6 lpm", field("ipv6_dst", 128), &p4v1.FieldMatch{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{
			Value: []byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, PrefixLen: 48}}}, "2001:db8:2::/48"},
		{"dscp", field("dscp", 6), ternary([]byte{46}, []byte{0x3f}), "EF"},
		{"dscp without a name", field("dscp", 6), &p4v1.FieldMatch{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: []byte{5}}}}, "5"},
		{"protocol", field("ip_proto", 8), ternary([]byte{17}, []byte{0xff}), "udp"},
		{"color", field("color", 2), &p4v1.FieldMatch{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: []byte{1}}}}, "yellow"},
		{"port range", field("l4_dst_port", 16), &p4v1.FieldMatch{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Range_{Range: &p4v1.FieldMatch_Range{Low: []byte{0x13, 0x89}, High: []byte{0x13, 0x92}}}}, "5001..5010"},
		{"range of one", field("l4_dst_port", 16), &p4v1.FieldMatch{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Range_{Range: &p4v1.FieldMatch_Range{Low: []byte{0x13, 0x89}, High: []byte{0, 0x13, 0x89}}}}, "5001"},
		{"unknown field", nil, ternary([]byte{1}, []byte{1}), "1&&&0x01"},
		{"no match kind", field("x", 8), &p4v1.FieldMatch{FieldId: 1}, "?"},
	} {
		if got := matchValue(tc.f, tc.m); got.Value != tc.value {
			t.Errorf("%s: %q, want %q (raw %s)", tc.name, got.Value, tc.value, got.Raw)
		}
	}
}
