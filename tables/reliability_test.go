package tables

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/internal/inputfile"
)

// A P4Info that declares an absurd width is refused when it is loaded,
// naming the field and the width, instead of every entry failing later
// with "prefix ... has host bits set".
func TestReliability_AbsurdBitwidthIsASchemaError(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*p4configv1.P4Info)
		field string
	}{
		{"match field", func(info *p4configv1.P4Info) { info.Tables[0].MatchFields[0].Bitwidth = 100_000 }, "match field"},
		{"action parameter", func(info *p4configv1.P4Info) {
			for _, a := range info.Actions {
				if len(a.Params) > 0 {
					a.Params[0].Bitwidth = 100_000
					return
				}
			}
			t.Fatal("no action with parameters in the test P4Info")
		}, "parameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := proto.Clone(testSchema(t).P4Info()).(*p4configv1.P4Info)
			tc.edit(info)
			_, err := New(info)
			if err == nil || !strings.Contains(err.Error(), "has bitwidth 100000") || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// Load reads through the bounded reader: no device, FIFO or directory, and
// nothing above the P4Info limit.
func TestReliability_LoadRefusesNonRegularAndHugeFiles(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.txtpb")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(inputfile.P4Info.Limit() + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for path, want := range map[string]error{"/dev/zero": inputfile.ErrNotRegular, t.TempDir(): inputfile.ErrNotRegular, big: inputfile.ErrTooLarge} {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if _, err := Load(path); !errors.Is(err, want) {
			t.Errorf("Load(%s) = %v, want %v", path, err, want)
		}
	}
}
