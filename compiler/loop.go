package compiler

import (
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/topo"
)

// DemandSource says where the closed loop measures one flow group's usage:
// a counter cell on one switch.
type DemandSource struct {
	FlowGroup string
	Switch    string
	Counter   string
	Index     int64
}

// DemandSources says where the closed loop measures each flow group: the
// class counter, on the switch where the flow group enters the fabric (its
// source host's switch), of the class metered from the allocator for it.
// Counting on every switch the class is installed on would count transit
// traffic again. A class metered at a tenant's allocation measures the
// tenant's traffic, which is a flow group's only when the tenant has exactly
// one; a tenant with several flow groups needs a class per flow group to be
// measured, and its flow groups are then treated as having unbounded demand.
// A policy with no allocator-metered class has no sources: the loop then
// measures nothing and writes nothing.
func DemandSources(pol *Policy, t *topo.Topology) []DemandSource {
	srcHost := map[string]string{}
	tenantFGs := map[string][]string{}
	var walk func(ts []*Tenant) []string
	walk = func(ts []*Tenant) []string {
		var all []string
		for _, tn := range ts {
			if tn == nil {
				continue
			}
			var mine []string
			for _, fg := range tn.FlowGroups {
				if fg != nil {
					srcHost[fg.Name] = fg.Src
					mine = append(mine, fg.Name)
				}
			}
			mine = append(mine, walk(tn.Children)...)
			tenantFGs[tn.Name] = mine
			all = append(all, mine...)
		}
		return all
	}
	walk(pol.Tenants)
	var out []DemandSource
	seen := map[string]bool{}
	for _, cl := range pol.Classes {
		if cl == nil || cl.Meter == nil || cl.Meter.From != "allocator" {
			continue
		}
		fg := cl.Meter.FlowGroup
		if fg == "" {
			if fgs := tenantFGs[cl.Meter.Tenant]; len(fgs) == 1 {
				fg = fgs[0]
			}
		}
		h, ok := t.Host(srcHost[fg])
		if fg == "" || !ok || seen[fg] {
			continue
		}
		seen[fg] = true
		out = append(out, DemandSource{FlowGroup: fg, Switch: h.Switch, Counter: contract.ClassCounter, Index: int64(cl.ID)})
	}
	return out
}

// Enforced keeps, of a switch's compiled entities, those the closed loop
// owns: meter configs (allocated rates) and action profile groups (WCMP
// weights). A recompilation with new demands changes only these.
func Enforced(ents []*p4v1.Entity) []*p4v1.Entity {
	var out []*p4v1.Entity
	for _, e := range ents {
		switch e.GetEntity().(type) {
		case *p4v1.Entity_MeterEntry, *p4v1.Entity_ActionProfileGroup:
			out = append(out, e)
		}
	}
	return out
}
