// Package bmv2json repairs BMv2 JSON that p4c-bm2-ss emits for the qos
// pipeline before any switch loads it. `make p4` runs it (through
// cmd/bmv2fix) on p4src/build/qos.json, so the committed JSON is already
// repaired; the lab runs it again on any JSON it is given.
package bmv2json
