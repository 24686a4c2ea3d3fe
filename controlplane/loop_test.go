package controlplane

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/tables"
)

func meter(cir, pir int64) *p4v1.Entity {
	return tables.EntityOf(&p4v1.MeterEntry{MeterId: 1, Index: &p4v1.Index{Index: 1},
		Config: &p4v1.MeterConfig{Cir: cir, Cburst: 1500, Pir: pir, Pburst: 1500}})
}

func group(weights ...int32) *p4v1.Entity {
	g := &p4v1.ActionProfileGroup{ActionProfileId: 1, GroupId: 1, MaxSize: 64}
	for i, w := range weights {
		g.Members = append(g.Members, &p4v1.ActionProfileGroup_Member{MemberId: uint32(i + 1), Weight: w})
	}
	return tables.EntityOf(g)
}

func TestSignificant(t *testing.T) {
	const h = 0.05
	tests := []struct {
		name      string
		installed *p4v1.Entity
		next      *p4v1.Entity
		want      bool
	}{
		{"nothing installed", nil, meter(100, 200), true},
		{"same meter", meter(100000, 200000), meter(100000, 200000), false},
		// |104000-100000| / 100000 = 4% ≤ 5%.
		{"CIR +4%", meter(100000, 200000), meter(104000, 200000), false},
		// |106000-100000| / 100000 = 6% > 5%.
		{"CIR +6%", meter(100000, 200000), meter(106000, 200000), true},
		// PIR 200000 → 189000: 5.5% > 5%.
		{"PIR -5.5%", meter(100000, 200000), meter(100000, 189000), true},
		{"from zero", meter(0, 0), meter(1, 1), true},
		// Weights 10,10 → 10,11: |Δ| sum 1 over total 20 = 5%, not above.
		{"WCMP 5%", group(10, 10), group(10, 11), false},
		// 10,10 → 9,12: (1+2)/20 = 15%.
		{"WCMP 15%", group(10, 10), group(9, 12), true},
		{"WCMP new member", group(10, 10), group(10, 10, 1), true},
		{"other entity differs", tableEntry(1, 1, 1), tableEntry(1, 1, 2), true},
		{"other entity same", tableEntry(1, 1, 1), tableEntry(1, 1, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Significant(tt.installed, tt.next, h); got != tt.want {
				t.Errorf("Significant = %v, want %v", got, tt.want)
			}
		})
	}
}
