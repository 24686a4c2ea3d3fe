package dashboard

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p4qos/p4qos/controller/statusapi"
)

// TestDemoReloadsObjective: while `p4qos demo --ui` runs, an edit of its
// policy file that switches the allocation objective to α-fair is picked
// up live (the status API's intent revision goes from 1 to 2); that a
// reload switches the closed loop's objective is
// controller.TestClosedLoopAlphaFair. Needs no browser.
func TestDemoReloadsObjective(t *testing.T) {
	base, err := os.ReadFile(repoFile("topo/examples/fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, base, 0o600); err != nil {
		t.Fatal(err)
	}
	url, _ := startDemo(t, policy)
	api := strings.TrimSuffix(url, "ui/") + "api/v1/status"
	var st statusapi.Status
	getJSON(t, api, &st)
	if st.IntentRevision != 1 {
		t.Fatalf("intent revision %d before the edit, want 1", st.IntentRevision)
	}
	edited := append(append([]byte{}, base...), "\nallocation: {objective: alpha-fair, alpha: 1}\n"...)
	if err := os.WriteFile(policy, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for st.IntentRevision < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		getJSON(t, api, &st)
	}
	if st.IntentRevision != 2 {
		t.Fatalf("intent revision %d 20 s after the policy edit, want 2 (the reload)", st.IntentRevision)
	}
	// The loop goes on under the new policy to its last round (the
	// baseline sample and the rounds), after which the demo only serves.
	var alloc struct{ Allocation statusapi.Allocation }
	for alloc.Allocation.Rounds < rounds+1 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		getJSON(t, strings.TrimSuffix(api, "status")+"allocation", &alloc)
	}
	if alloc.Allocation.Rounds != rounds+1 || alloc.Allocation.IntentRevision != 2 {
		t.Fatalf("after the reload: %d rounds under intent revision %d, want %d under 2", alloc.Allocation.Rounds, alloc.Allocation.IntentRevision, rounds+1)
	}
}

// switchRounds is the length of the runs of
// TestDemoObjectiveSwitchChangesAllocation: enough rounds after the edit
// (the demo polls its policy every 200 ms, a round takes 100 ms) for the
// loop to settle under the new objective.
const switchRounds = 14

// demoHistory runs the demo (UI mode) on policy; when edit is set, it
// writes edit to the policy file as soon as one round has allocated. It
// returns the allocation of every round that allocated, by round number,
// and the intent revision of the last one.
func demoHistory(t *testing.T, policy string, edit []byte) (map[int]map[string]float64, uint64) {
	t.Helper()
	url, stop := startDemoRounds(t, policy, switchRounds)
	api := strings.TrimSuffix(url, "ui/") + "api/v1/allocation"
	var a struct{ Allocation statusapi.Allocation }
	deadline := time.Now().Add(30 * time.Second)
	edited := edit == nil
	for a.Allocation.Rounds < switchRounds+1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		getJSON(t, api, &a)
		if !edited && len(a.Allocation.History) > 0 {
			if err := os.WriteFile(policy, edit, 0o600); err != nil {
				t.Fatal(err)
			}
			edited = true
		}
	}
	stop()
	if a.Allocation.Rounds != switchRounds+1 {
		t.Fatalf("%d rounds after 30 s, want %d", a.Allocation.Rounds, switchRounds+1)
	}
	h := map[int]map[string]float64{}
	for _, r := range a.Allocation.History {
		h[r.Round] = r.Allocation
	}
	return h, a.Allocation.IntentRevision
}

// TestDemoObjectiveSwitchChangesAllocation: switching the objective in the
// running demo changes what the closed loop allocates. Two runs of the demo
// on the same synthetic traffic: one under max-min throughout, one whose
// policy is edited to α = 0 (total throughput) after its first round. Up to
// the edit both runs allocate the same (the demo is deterministic, so a
// difference later is the objective's); after it, the edited run's last
// round differs from the max-min run's by more than 5 % for some flow group
// (α = 0 ignores the tenants' weights that max-min follows), and every round
// of both runs stays within the 80Mbps of leaf1's two spine uplinks, which
// all three flow groups cross (their sources, h1 and h2, are on leaf1).
func TestDemoObjectiveSwitchChangesAllocation(t *testing.T) {
	base, err := os.ReadFile(repoFile("topo/examples/fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, base, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	maxmin, rev := demoHistory(t, write("maxmin.yaml"), nil)
	if rev != 1 {
		t.Fatalf("max-min run: intent revision %d, want 1 (no edit)", rev)
	}
	alpha0 := append(append([]byte{}, base...), "\nallocation: {objective: alpha-fair, alpha: 0}\n"...)
	switched, rev := demoHistory(t, write("switched.yaml"), alpha0)
	if rev != 2 {
		t.Fatalf("switched run: intent revision %d, want 2 (the reload)", rev)
	}
	first, last := switchRounds+2, 0
	for r := range switched {
		first, last = min(first, r), max(last, r)
	}
	same := func(a, b map[string]float64, tol float64) bool {
		if len(a) != len(b) {
			return false
		}
		for fg, x := range a {
			if y, ok := b[fg]; !ok || math.Abs(x-y) > tol*math.Max(math.Abs(x), math.Abs(y)) {
				return false
			}
		}
		return true
	}
	if !same(switched[first], maxmin[first], 1e-9) {
		t.Errorf("round %d, before the edit took effect: switched run %v, max-min run %v; want equal (deterministic demo)", first, switched[first], maxmin[first])
	}
	if last != switchRounds+1 || maxmin[last] == nil {
		t.Fatalf("last allocating round %d (max-min run has it: %v), want %d", last, maxmin[last] != nil, switchRounds+1)
	}
	if same(switched[last], maxmin[last], 0.05) {
		t.Errorf("round %d: switched to α = 0 %v, max-min %v: want a difference > 5 %%", last, switched[last], maxmin[last])
	}
	for name, h := range map[string]map[int]map[string]float64{"max-min": maxmin, "switched": switched} {
		for r, alloc := range h {
			var sum float64
			for _, x := range alloc {
				sum += x
			}
			if sum > 80e6*(1+1e-6) {
				t.Errorf("%s run, round %d: %v sums to %.0f bit/s, more than the 80Mbps of leaf1's uplinks", name, r, alloc, sum)
			}
		}
	}
	t.Logf("round %d: max-min %v; switched to α = 0 %v", last, maxmin[last], switched[last])
}
