package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// labBlocks returns the shell blocks of a teaching lab that are steps: the
// fenced blocks whose info string is "sh lab". Other blocks (install
// instructions, sample output) are not run.
func labBlocks(md string) []string {
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(md, "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case cur == nil && trim == "```sh lab":
			cur = &strings.Builder{}
		case cur != nil && trim == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}

func TestLabBlocks(t *testing.T) {
	md := "intro\n```sh lab\necho one\necho two\n```\n```sh\napt-get install x\n```\n```text\nout\n```\n  ```sh lab\n  echo three\n  ```\n"
	got := labBlocks(md)
	want := []string{"echo one\necho two\n", "  echo three\n"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("labBlocks = %q, want %q", got, want)
	}
}

// TestTeachingLabs runs the steps of every docs/labs/lab*.md exactly as
// written (all "sh lab" blocks of a lab as one bash -e script, from the
// repository root), so the docs cannot drift from what works. The steps
// check their own expected observations. The lab is taken down afterwards
// whatever happened.
func TestTeachingLabs(t *testing.T) {
	requirePipeline(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is missing: apt-get install tshark")
	}
	root := repoRoot(t)
	docs, _ := filepath.Glob(filepath.Join(root, "docs/labs/lab*.md"))
	if len(docs) == 0 {
		t.Fatal("no docs/labs/lab*.md")
	}
	upRE := regexp.MustCompile(`lab up -t (\S+)`)
	for _, doc := range docs {
		t.Run(filepath.Base(doc), func(t *testing.T) {
			md, err := os.ReadFile(doc)
			if err != nil {
				t.Fatal(err)
			}
			blocks := labBlocks(string(md))
			if len(blocks) == 0 {
				t.Fatalf("%s has no ```sh lab blocks", doc)
			}
			script := "set -euo pipefail\n" + strings.Join(blocks, "\n")
			for _, m := range upRE.FindAllStringSubmatch(script, -1) {
				topoFile := m[1]
				t.Cleanup(func() {
					c := exec.Command(filepath.Join(root, "bin/p4qos"), "lab", "down", "-t", topoFile)
					c.Dir = root
					_ = c.Run()
				})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			c := exec.CommandContext(ctx, "bash", "-c", script)
			c.Dir = root
			j, p := pipelineFiles(t)
			c.Env = append(os.Environ(), "P4QOS_BMV2_JSON="+j, "P4QOS_P4INFO="+p)
			start := time.Now()
			out, err := c.CombinedOutput()
			t.Logf("%s: %s\n%s", filepath.Base(doc), time.Since(start).Round(time.Second), out)
			if err != nil {
				t.Fatalf("the steps of %s failed: %v", doc, err)
			}
		})
	}
}

// TestLabDocsShape checks, without any lab tool, that every teaching lab
// has steps, starts its lab and takes it down again in its last step (so a
// reader who follows it leaves nothing running), plots with p4qos, and is
// listed in the labs' index, docs/labs/README.md.
func TestLabDocsShape(t *testing.T) {
	docs, _ := filepath.Glob(filepath.Join(repoRoot(t), "docs/labs/lab*.md"))
	if len(docs) < 5 {
		t.Fatalf("want five teaching labs in docs/labs, found %d", len(docs))
	}
	index, err := os.ReadFile(filepath.Join(repoRoot(t), "docs/labs/README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range docs {
		if link := "](" + filepath.Base(doc) + ")"; !strings.Contains(string(index), link) {
			t.Errorf("docs/labs/README.md does not link %s", filepath.Base(doc))
		}
		md, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		blocks := labBlocks(string(md))
		if len(blocks) == 0 {
			t.Errorf("%s: no ```sh lab blocks", doc)
			continue
		}
		all := strings.Join(blocks, "\n")
		last := strings.TrimSpace(blocks[len(blocks)-1])
		for _, want := range []string{"bin/p4qos lab up -t", "bin/p4qos lab record", "bin/p4qos lab plot"} {
			if !strings.Contains(all, want) {
				t.Errorf("%s: the steps never run %q", doc, want)
			}
		}
		if !strings.Contains(last[strings.LastIndex(last, "\n")+1:], "bin/p4qos lab down -t") {
			t.Errorf("%s: the last step does not end with bin/p4qos lab down", doc)
		}
		for _, s := range []string{"**Goal.**", "## Steps", "## What you should see"} {
			if !strings.Contains(string(md), s) {
				t.Errorf("%s: no %q section", doc, s)
			}
		}
	}
}
