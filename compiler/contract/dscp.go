package contract

import "strconv"

// DSCPNames are the DSCP codepoint names (RFC 2474 class selectors, RFC 2597 AF, RFC 3246
// EF, RFC 5865 VOICE-ADMIT, RFC 8622 LE).
var DSCPNames = map[string]uint8{
	"DF": 0, "CS0": 0, "LE": 1,
	"CS1": 8, "AF11": 10, "AF12": 12, "AF13": 14,
	"CS2": 16, "AF21": 18, "AF22": 20, "AF23": 22,
	"CS3": 24, "AF31": 26, "AF32": 28, "AF33": 30,
	"CS4": 32, "AF41": 34, "AF42": 36, "AF43": 38,
	"CS5": 40, "VOICE-ADMIT": 44, "EF": 46,
	"CS6": 48, "CS7": 56,
}

// DSCPName returns the codepoint's name (DF for 0), or its number.
func DSCPName(d uint8) string {
	best := ""
	for n, v := range DSCPNames {
		if v == d && n != "CS0" && (best == "" || n < best) {
			best = n
		}
	}
	if best == "" {
		return strconv.Itoa(int(d))
	}
	return best
}
