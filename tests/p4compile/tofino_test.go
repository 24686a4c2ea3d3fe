package p4compile

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

// tofinoBuilds are the bf-p4c compiles whose outputs p4src/build/<dir>
// holds; the flags are the Makefile's (BF_P4C_FLAGS and bf_p4c), keep them
// equal.
var tofinoBuilds = []struct{ dir, target, arch string }{
	{"tofino", "tofino", "tna"},
	{"tofino2", "tofino2", "t2na"},
}

func bfP4CArgs(target, arch, out string) []string {
	return []string{"--target", target, "--arch", arch, "--std", "p4-16", "-g",
		"--p4runtime-force-std-externs", "--p4runtime-files", filepath.Join(out, "qos.p4info.txtpb"),
		"--bf-rt-schema", filepath.Join(out, "bf-rt.json"), "-o", out, tnaSource}
}

// TestCommittedTofinoP4InfoMatchesSource recompiles the TNA program with
// bf-p4c for Tofino 1 and 2, as `make p4` does, and compares each P4Info
// with the committed one (same semantic comparison as the BMv2 test).
func TestCommittedTofinoP4InfoMatchesSource(t *testing.T) {
	bfp4c, ok := findTool("bf-p4c")
	if !ok {
		t.Skip("bf-p4c not found on PATH or in /opt/p4/bin: cannot check that p4src/build/tofino*/qos.p4info.txtpb match p4src/tna/qos.p4 (see docs/targets.md)")
	}
	for _, b := range tofinoBuilds {
		t.Run(b.dir, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bfp4c, bfP4CArgs(b.target, b.arch, out)...)
			var log bytes.Buffer
			cmd.Stdout, cmd.Stderr = &log, &log
			start := time.Now()
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s %s: %v\n%s", bfp4c, strings.Join(cmd.Args[1:], " "), err, log.String())
			}
			t.Logf("bf-p4c --target %s: %s", b.target, time.Since(start).Round(time.Second))
			committed := normalize(loadP4Info(t, filepath.Join(repoRoot, "p4src", "build", b.dir, "qos.p4info.txtpb")))
			compiled := normalize(loadP4Info(t, filepath.Join(out, "qos.p4info.txtpb")))
			if !proto.Equal(committed, compiled) {
				t.Errorf("committed %s P4Info differs from bf-p4c output; run `make p4` and commit p4src/build\n%s",
					b.dir, textDiff(committed, compiled))
			}
			// The parser defect of p4c up to p4lang/p4c#5753 (docs/targets.md)
			// emits states whose transitions have no match: the Makefile's
			// BFA_PARSER_CHECK, here in Go.
			bfa, err := os.ReadFile(filepath.Join(out, "pipe", "qos.bfa"))
			if err != nil {
				t.Fatal(err)
			}
			if bad := unmatchedParserStates(string(bfa)); len(bad) > 0 {
				t.Errorf("bf-p4c emitted parser states with several transitions and no match (p4lang/p4c#5753): %v", bad)
			}
			for _, f := range []string{"bf-rt.json", "context.json", b.target + ".bin"} {
				if _, err := os.Stat(filepath.Join(repoRoot, "p4src", "build", b.dir, f)); err != nil {
					t.Errorf("committed %s: %v; run `make p4`", f, err)
				}
			}
		})
	}
}

// unmatchedParserStates lists the states of a .bfa's parsers that have more
// than one transition but no match line (a "match:" key list), as the
// Makefile's BFA_PARSER_CHECK does: states are indented 4 spaces,
// transitions and the match line 6.
func unmatchedParserStates(bfa string) []string {
	var bad []string
	inParser, state, n, match := false, "", 0, false
	flush := func() {
		if inParser && n > 1 && !match {
			bad = append(bad, state)
		}
		state, n, match = "", 0, false
	}
	for _, line := range strings.Split(bfa, "\n") {
		switch {
		case strings.HasPrefix(line, "parser "):
			flush()
			inParser = true
		case line != "" && line[0] != ' ' && line[0] != '#':
			flush()
			inParser = false
		case strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     ") && strings.HasSuffix(line, ":"):
			flush()
			state = strings.TrimSpace(line)
		case strings.HasPrefix(line, "      match:"):
			match = true
		case strings.HasPrefix(line, "      ") && !strings.HasPrefix(line, "       ") && strings.HasSuffix(line, ":"):
			n++
		}
	}
	flush()
	return bad
}

// TestUnmatchedParserStates runs the parser check on two states taken from
// bf-p4c assembly: Tofino 1's IPv4 state as p4c 1.2.5.16 emitted it (three
// unconditional transitions) and as a compiler with p4lang/p4c#5753 does.
func TestUnmatchedParserStates(t *testing.T) {
	const broken = "parser ingress:\n  start: QosIngressParser_start\n  states:\n" +
		"    QosHeaderParser_parse_ipv4.$split_0:\n      *:\n        next: QosHeaderParser_parse_tcp\n" +
		"      *:\n        next: QosHeaderParser_parse_udp\n      *:\n        next: end\n" +
		"deparser ingress:\n"
	const fixed = "parser ingress:\n  start: QosIngressParser_start\n  states:\n" +
		"    QosHeaderParser_parse_ipv4.$split_0:\n      match: [ byte1, half, byte0 ]\n" +
		"      0b****0101***000000000000000000110:\n        next: QosHeaderParser_parse_tcp\n" +
		"      0b****0101***000000000000000010001:\n        next: QosHeaderParser_parse_udp\n" +
		"      0b******************************:\n        next: end\n" +
		"deparser ingress:\n"
	if bad := unmatchedParserStates(broken); len(bad) != 1 || bad[0] != "QosHeaderParser_parse_ipv4.$split_0:" {
		t.Errorf("broken: %v", bad)
	}
	if bad := unmatchedParserStates(fixed); len(bad) != 0 {
		t.Errorf("fixed: %v", bad)
	}
}
