package topo

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// FuzzParseTopology: arbitrary bytes never panic the loader; failures are
// positioned lists; a topology that loads answers path queries between all
// its hosts without error (it was checked to be connected).
func FuzzParseTopology(f *testing.F) {
	for _, name := range []string{"fabric.yaml", "single.yaml", "triangle.yaml"} {
		data, err := os.ReadFile(filepath.Join("examples", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("switches: [{name: s, device_id: 1, address: 'a:1', target: sim}]\nhosts: [{name: h, ipv6: '::1/64', mac: '02:00:00:00:00:09', switch: s, port: 3}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tp, err := Parse("f.yaml", data)
		if err != nil {
			var list yamlerr.List
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a positioned list: %T %v", err, err)
			}
			return
		}
		if len(tp.Hosts) > 8 {
			return // keep each input cheap
		}
		for _, a := range tp.Hosts {
			for _, b := range tp.Hosts {
				if a == b {
					continue
				}
				if _, err := tp.ShortestPaths(a.Name, b.Name, 4); err != nil {
					t.Fatalf("%s→%s: %v", a.Name, b.Name, err)
				}
				if _, err := tp.KShortestPaths(a.Name, b.Name, 3); err != nil {
					t.Fatalf("k %s→%s: %v", a.Name, b.Name, err)
				}
			}
		}
	})
}
