package allocator

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// A problem with an issue per item yields yamlerr.MaxErrors issues and one
// that says more were found, not one per item (a 10 MB file of them cost
// 600 MB and printed megabytes).
func TestReliability_ProblemIssuesAreBounded(t *testing.T) {
	src := "links: [" + strings.Repeat("1, ", 50_000) + "]\n"
	_, err := ParseProblem(strings.NewReader(src), "p.yaml")
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Issues) != yamlerr.MaxErrors+1 {
		t.Fatalf("got %v", err)
	}
}

// endless never ends, like /dev/zero behind a pipe.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// ParseProblem reads at most the problem limit from its reader.
func TestReliability_ParseProblemCapsItsInput(t *testing.T) {
	_, err := ParseProblem(endless{}, "<stdin>")
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "the limit for an allocation problem is") {
		t.Fatalf("got %v", err)
	}
}

// A path that lists many distinct links is checked for repeats in linear
// time: the check compared each link with all before it, 4.5·10^10
// comparisons for one path of 300,000 links.
func TestReliability_LongPathRepeatCheckIsLinear(t *testing.T) {
	const n = 300_000
	p := &Problem{Links: make([]Link, n), FlowGroups: []FlowGroup{{Name: "f", Function: BandwidthFunction{Weight: 1}, Paths: []Path{{Weight: 1, Links: make([]string, n+1)}}}}}
	for i := range p.Links {
		p.Links[i] = Link{Name: fmt.Sprintf("l%d", i), Capacity: 1e9}
		p.FlowGroups[0].Paths[0].Links[i] = p.Links[i].Name
	}
	p.FlowGroups[0].Paths[0].Links[n] = "l7" // one repeat, at the end
	done := make(chan error, 1)
	go func() { done <- p.Validate() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), `link "l7" appears twice`) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Validate took more than 15 s")
	}
}
