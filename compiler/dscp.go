package compiler

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

// dscpNames are the codepoint names (compiler/contract).
var dscpNames = contract.DSCPNames

// DSCPName returns the codepoint's name (DF for 0), or its number.
func DSCPName(d uint8) string { return contract.DSCPName(d) }

// DSCP is a 6-bit codepoint, written as a name (EF, AF41, CS1, DF) or a
// number 0..63.
type DSCP uint8

// ParseDSCP parses a codepoint name (case-insensitive) or number.
func ParseDSCP(s string) (DSCP, error) {
	if v, ok := dscpNames[strings.ToUpper(strings.TrimSpace(s))]; ok {
		return DSCP(v), nil
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 0, 64)
	if err != nil {
		return 0, fmt.Errorf("expected a DSCP name (EF, AF11..AF43, CS0..CS7, DF, LE, VOICE-ADMIT) or a number 0..63, got %s", yamlerr.Quote(s))
	}
	if n > 63 {
		return 0, fmt.Errorf("DSCP must be 0..63 (6 bits), got %d", n)
	}
	return DSCP(n), nil
}

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (d *DSCP) UnmarshalYAMLNode(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a DSCP name or number 0..63")
	}
	v, err := ParseDSCP(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// phbNames are the names a PHB may have, sorted.
func phbNames() []string {
	var names []string
	for k := range dscpNames {
		if k != "LE" && k != "VOICE-ADMIT" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

// String is the name or number.
func (d DSCP) String() string { return DSCPName(uint8(d)) }

// PHB is a per-hop behaviour: EF, AF11..AF43, CS0..CS7 or DF. Its
// codepoint is what set_class marks.
type PHB struct {
	Name string
	DSCP DSCP
}

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (p *PHB) UnmarshalYAMLNode(n *yaml.Node) error {
	name := strings.ToUpper(strings.TrimSpace(n.Value))
	v, ok := dscpNames[name]
	if n.Kind != yaml.ScalarNode || !ok || name == "LE" || name == "VOICE-ADMIT" {
		return fmt.Errorf("expected a PHB: EF, AF11..AF43, CS0..CS7 or DF, got %s%s", yamlerr.Quote(n.Value), yamlerr.Suggest(n.Value, phbNames()))
	}
	*p = PHB{Name: name, DSCP: DSCP(v)}
	return nil
}

// afClass returns x and y of AFxy, or ok=false.
func (p PHB) afClass() (x, y int, ok bool) {
	if len(p.Name) == 4 && strings.HasPrefix(p.Name, "AF") {
		return int(p.Name[2] - '0'), int(p.Name[3] - '0'), true
	}
	return 0, 0, false
}

// NumQueues is the number of queues the pipeline selects (bit<3>).
const NumQueues = 8

// DefaultQueue is the DiffServ default DSCP→queue map (queue 7 is served
// first on BMv2 priority queues and on TNA):
//
//	7  EF (46), VOICE-ADMIT (44)        expedited forwarding, RFC 3246/5865
//	6  CS6, CS7                         network control, RFC 4594
//	5  AF41..AF43, CS4, CS5             AF class 4 (and its class selectors)
//	4  AF31..AF33, CS3                  AF class 3
//	3  AF21..AF23, CS2                  AF class 2
//	2  AF11..AF13                       AF class 1
//	1  DF (0) and every other codepoint default forwarding, RFC 2474 §4.1
//	0  CS1 (8), LE (1)                  lower effort, RFC 3662/8622
//
// All drop precedences of one AF class share a queue so that a flow's
// packets are not reordered when they are remarked (RFC 2597 §2). The class
// selectors keep their relative order (RFC 2474 §4.2.2.2) except CS1,
// which RFC 4594 turns into the scavenger class below DF.
func DefaultQueue(d DSCP) uint8 {
	switch d {
	case 46, 44:
		return 7
	case 48, 56:
		return 6
	case 34, 36, 38, 32, 40:
		return 5
	case 26, 28, 30, 24:
		return 4
	case 18, 20, 22, 16:
		return 3
	case 10, 12, 14:
		return 2
	case 8, 1:
		return 0
	}
	return 1
}

// ColorAction is what happens to a yellow or red packet of a metered
// class: keep (no change), drop, or remark to a DSCP. YAML: "keep",
// "drop", or a DSCP name or number.
type ColorAction struct {
	Drop   bool
	Remark *DSCP // nil with Drop false: keep
}

// UnmarshalYAMLNode implements yamlerr.Unmarshaler.
func (c *ColorAction) UnmarshalYAMLNode(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected keep, drop or a DSCP to remark to")
	}
	switch strings.ToLower(n.Value) {
	case "keep":
		*c = ColorAction{}
		return nil
	case "drop":
		*c = ColorAction{Drop: true}
		return nil
	}
	d, err := ParseDSCP(n.Value)
	if err != nil {
		return fmt.Errorf("expected keep, drop or a DSCP to remark to: %w", err)
	}
	*c = ColorAction{Remark: &d}
	return nil
}

// String is keep, drop or remark:<dscp>.
func (c ColorAction) String() string {
	switch {
	case c.Drop:
		return "drop"
	case c.Remark != nil:
		return "remark:" + c.Remark.String()
	}
	return "keep"
}

// defaultColors is the PHB's treatment of yellow and red packets: AFxy
// remarks yellow to AFx2 and red to AFx3 (RFC 2597 §2: higher drop
// precedence within the class; a class already at a higher precedence
// keeps it), EF drops red (RFC 3246 §2.1: EF traffic above its rate must
// not be allowed to hurt other traffic), everything else keeps the packet.
func defaultColors(p PHB) (yellow, red ColorAction) {
	if x, y, ok := p.afClass(); ok {
		dy := dscpNames[fmt.Sprintf("AF%d%d", x, max(y, 2))]
		dr := dscpNames[fmt.Sprintf("AF%d3", x)]
		y, r := DSCP(dy), DSCP(dr)
		return ColorAction{Remark: &y}, ColorAction{Remark: &r}
	}
	if p.Name == "EF" {
		return ColorAction{}, ColorAction{Drop: true}
	}
	return ColorAction{}, ColorAction{}
}
