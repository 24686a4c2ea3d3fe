package compiler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/p4qos/p4qos/internal/yamlerr"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/topo"
)

// FuzzParsePolicy feeds arbitrary bytes to the policy parser (seed corpus:
// testdata/fuzz/FuzzParsePolicy/). Properties: no panic; every failure is
// a yamlerr.List whose errors name the file and say something; a policy
// that parses either compiles for the demo fabric into entities the P4Info
// accepts, or fails with a positioned list too.
func FuzzParsePolicy(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join(examplesPath, "fabric-policy.yaml")); err == nil {
		f.Add(data)
	}
	tp, err := topo.Load(filepath.Join(examplesPath, "fabric.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	var schema *tables.Schema
	if _, err := os.Stat(p4infoPath); err == nil {
		if schema, err = tables.Load(p4infoPath); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy("f.yaml", data)
		if err != nil {
			checkList(t, err)
			return
		}
		if schema == nil {
			return
		}
		res, err := Compile(context.Background(), p, tp, schema)
		if err != nil {
			checkList(t, err)
			return
		}
		for sw, es := range res.Switches {
			for _, e := range es {
				if err := schema.ValidateEntity(e); err != nil {
					t.Fatalf("%s: compiled an invalid entity %s: %v", sw, schema.Describe(e), err)
				}
			}
		}
	})
}

func checkList(t *testing.T, err error) {
	t.Helper()
	var list yamlerr.List
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, not a yamlerr.List: %v", err, err)
	}
	if len(list) == 0 {
		t.Fatal("empty error list")
	}
	for _, e := range list {
		if e.File != "f.yaml" || e.Msg == "" {
			t.Fatalf("error without file or message: %#v", e)
		}
	}
}
