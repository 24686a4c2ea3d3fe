package tofinomodel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/p4qos/p4qos/tests/internal/bmv2env"
)

// portMap is tofino-model's -f file: which Linux interface each device
// port sends and receives on (its runner/ifmap_example.json format,
// "PortToIf", read by model_core/port-json-loader.cpp).
type portMap struct {
	PortToIf []portIf `json:"PortToIf"`
}

type portIf struct {
	DevicePort int    `json:"device_port"`
	If         string `json:"if"`
}

// PortMapJSON maps device ports 1..n to bmv2env.SwitchIface(1..n), so that
// the P4 entries of a test name the same port numbers on the model as on
// BMv2. Device ports 1..n lie in pipe 0 of a Tofino 1 (0..63 are its
// front-panel ports there).
func PortMapJSON(n int) ([]byte, error) {
	if n < 1 || n > 63 {
		return nil, fmt.Errorf("tofinomodel: %d ports; device ports 1..63 of pipe 0 are supported", n)
	}
	m := portMap{}
	for p := 1; p <= n; p++ {
		m.PortToIf = append(m.PortToIf, portIf{DevicePort: p, If: bmv2env.SwitchIface(p)})
	}
	return json.MarshalIndent(m, "", "  ")
}

// SwitchdConfJSON is bf_switchd's --conf-file for one Tofino 1 model
// device (id 0) without a P4 program, which the P4Runtime server loads
// later. bf_switchd (bf_switchd/switch_config.c) asserts that every
// p4_devices entry has a p4_programs array, so an empty one is given; the
// chip entry is the model's (no PCIe device behind it).
func SwitchdConfJSON() ([]byte, error) {
	conf := map[string]any{
		"chip_list": []map[string]any{{
			"id":          "asic-0",
			"chip_family": "tofino",
			"instance":    0,
			"sds_fw_path": "share/tofino_sds_fw/avago/firmware",
		}},
		"instance":   0,
		"p4_devices": []map[string]any{{"device-id": 0, "p4_programs": []any{}}},
	}
	return json.MarshalIndent(conf, "", "  ")
}

// writeFiles writes the port map and the switchd configuration into dir
// and returns their paths.
func writeFiles(dir string, ports int) (portMapPath, confPath string, err error) {
	pm, err := PortMapJSON(ports)
	if err != nil {
		return "", "", err
	}
	conf, err := SwitchdConfJSON()
	if err != nil {
		return "", "", err
	}
	portMapPath, confPath = filepath.Join(dir, "ports.json"), filepath.Join(dir, "switchd.conf")
	if err := os.WriteFile(portMapPath, pm, 0o644); err != nil {
		return "", "", fmt.Errorf("tofinomodel: %w", err)
	}
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		return "", "", fmt.Errorf("tofinomodel: %w", err)
	}
	return portMapPath, confPath, nil
}
