// Command bmv2fix rewrites a BMv2 JSON file in place with
// bmv2json.UnifySharedProfileActions (see there for the p4c/PI interplay it
// works around). `make p4` runs it after p4c-bm2-ss.
package main

import (
	"fmt"
	"os"

	"github.com/p4qos/p4qos/internal/bmv2json"
	"github.com/p4qos/p4qos/internal/inputfile"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bmv2fix FILE.json")
		os.Exit(2)
	}
	path := os.Args[1]
	in, err := inputfile.Read(path, inputfile.BMv2JSON)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bmv2fix:", err)
		os.Exit(2)
	}
	out, changed, err := bmv2json.UnifySharedProfileActions(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bmv2fix:", err)
		os.Exit(2)
	}
	if !changed {
		fmt.Printf("%s: no table shares an action profile with divergent action copies\n", path)
		return
	}
	if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bmv2fix:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: tables sharing an action profile now use one copy of each action\n", path)
}
