package inspect

import (
	"context"
	"time"

	"github.com/p4qos/p4qos/controller/statusapi"
)

// StatusAPI is a FlowGroupSource: a running daemon's status API
// (docs/controller.md, "Status API").
type StatusAPI struct {
	// URL is the API's base, e.g. http://127.0.0.1:9464.
	URL string
	// Timeout bounds one request (DefaultTimeout when 0).
	Timeout time.Duration
}

// FlowGroups reads the daemon's current allocation.
func (a *StatusAPI) FlowGroups(ctx context.Context) ([]FlowGroupTop, error) {
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, err := statusapi.Fetch(ctx, a.URL)
	if err != nil {
		return nil, err
	}
	out := make([]FlowGroupTop, 0, len(st.Allocation.FlowGroups))
	for _, g := range st.Allocation.FlowGroups {
		out = append(out, FlowGroupTop{Name: g.Name, Tenant: g.Tenant, UsageBps: g.Usage, DemandBps: g.Demand,
			AllocatedBps: g.Allocation, EnforcedBps: g.Enforced, Bottleneck: g.Bottleneck})
	}
	return out, nil
}
