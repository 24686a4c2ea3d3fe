package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLabDownAfterCrash crashes `lab up` two ways — SIGKILL of the CLI while
// it waits for the switches, and SIGKILL of Mininet once the lab is up — and
// checks that `lab down` leaves no namespace, veth, process or state file.
func TestLabDownAfterCrash(t *testing.T) {
	requireLab(t)
	bin := buildCLI(t)
	root := repoRoot(t)
	stateRoot := t.TempDir()
	topoFile := filepath.Join(root, "topo/examples/single.yaml")
	lab := func(ctx context.Context, args ...string) *exec.Cmd {
		c := exec.CommandContext(ctx, bin, append([]string{"lab"}, append(args, "-t", topoFile, "--state-dir", stateRoot)...)...)
		c.Dir = root
		return c
	}
	t.Cleanup(func() { _ = lab(context.Background(), "down").Run() })
	// With the compiled pipeline, lab up also starts the controller, which
	// lab down must stop too; without it, the switches alone.
	upArgs := []string{"up"}
	if j, p := pipelineFiles(t); fileExists(j) && fileExists(p) {
		upArgs = append(upArgs, "--bmv2-json", j, "--p4info", p)
	} else {
		t.Logf("%s missing: crashing labs without a controller", j)
		upArgs = append(upArgs, "--no-controller")
	}

	for _, crash := range []string{"cli-during-up", "mininet-after-up"} {
		t.Run(crash, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			up := lab(ctx, upArgs...)
			var out strings.Builder
			up.Stdout, up.Stderr = &out, &out
			if err := up.Start(); err != nil {
				t.Fatal(err)
			}
			switch crash {
			case "cli-during-up":
				// Kill the CLI as soon as Mininet has been started by it.
				waitFor(t, 60*time.Second, func() bool { return fileExists(filepath.Join(stateRoot, "lab-single", "mininet.pid")) })
				_ = up.Process.Kill()
				_ = up.Wait()
			case "mininet-after-up":
				if err := up.Wait(); err != nil {
					t.Fatalf("lab up: %v\n%s", err, out.String())
				}
				b, err := os.ReadFile(filepath.Join(stateRoot, "lab-single", "mininet.pid"))
				if err != nil {
					t.Fatal(err)
				}
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			if out, err := lab(ctx, "down").CombinedOutput(); err != nil {
				t.Fatalf("lab down: %v\n%s", err, out)
			}
			assertNothingLeft(t, stateRoot)
		})
	}
}

func assertNothingLeft(t *testing.T, stateRoot string) {
	t.Helper()
	nss, _ := filepath.Glob("/run/netns/p4qos-single*")
	for _, ns := range nss {
		t.Errorf("namespace %s still exists", filepath.Base(ns))
	}
	if fileExists(filepath.Join(stateRoot, "lab-single")) {
		t.Error("state directory still exists")
	}
	links, _ := exec.Command("ip", "-o", "link").Output()
	for _, l := range strings.Split(string(links), "\n") {
		if strings.Contains(l, "s1-eth") || strings.Contains(l, "h1-eth") {
			t.Errorf("veth left behind: %s", l)
		}
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%s/cmdline", e.Name()))
		cl := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cl, "mininet:h") || (strings.Contains(cl, "simple_switch_grpc") && strings.Contains(cl, "s1-eth")) || strings.Contains(cl, "lab-single/") {
			t.Errorf("process left behind: pid %s: %s", e.Name(), cl)
		}
	}
}

func waitFor(t *testing.T, max time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(max)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("condition not met within %s", max)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
