package inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/p4qos/p4qos/controller/statusapi"
)

// StatusAPI is a FlowGroupSource: a running daemon's /api/v1/allocation
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
	url := strings.TrimSuffix(a.URL, "/") + "/api/v1/allocation"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("status API %s: %w", a.URL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("status API: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("status API %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status API %s: %s: %.200s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	var doc struct {
		Allocation *statusapi.Allocation `json:"allocation"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Allocation == nil {
		return nil, fmt.Errorf("status API %s: not an allocation document (%v): %.120s", url, err, strings.TrimSpace(string(body)))
	}
	alloc := doc.Allocation
	out := make([]FlowGroupTop, 0, len(alloc.FlowGroups))
	for _, g := range alloc.FlowGroups {
		out = append(out, FlowGroupTop{Name: g.Name, Tenant: g.Tenant, UsageBps: g.Usage, DemandBps: g.Demand,
			AllocatedBps: g.Allocation, EnforcedBps: g.Enforced, Bottleneck: g.Bottleneck})
	}
	return out, nil
}
