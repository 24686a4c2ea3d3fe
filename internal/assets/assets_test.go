package assets

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPath(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Chdir(t.TempDir())
	const rel = "topo/examples/fabric.yaml"
	if !Embedded(rel) || Embedded("topo/examples/none.yaml") {
		t.Fatal("Embedded is wrong")
	}
	// Not on disk: the embedded copy, written once.
	p, err := Path(rel)
	if err != nil || p == rel {
		t.Fatalf("Path = %q, %v", p, err)
	}
	data, err := os.ReadFile(p)
	if err != nil || len(data) == 0 {
		t.Fatalf("copy: %v", err)
	}
	again, err := Path(rel)
	if err != nil || again != p {
		t.Errorf("second Path = %q, want %q", again, p)
	}
	// On disk: the file on disk wins.
	if err := os.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rel, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _ := Path(rel); got != rel {
		t.Errorf("with a file on disk Path = %q, want %q", got, rel)
	}
	// Neither: unchanged, for the caller's own error.
	if got, err := Path("nowhere.yaml"); got != "nowhere.yaml" || err != nil {
		t.Errorf("Path(nowhere) = %q, %v", got, err)
	}
}
