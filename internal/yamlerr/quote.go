package yamlerr

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxQuoted is how many runes of a user's value Quote keeps.
const MaxQuoted = 64

// Quote renders a value taken from the input for an error message: Go
// quoted, and cut to MaxQuoted runes with the full length appended, as in
// "aaaa…"…(303000 bytes). Every message that quotes input uses it, so that
// a hostile file cannot make p4qos print hundreds of kilobytes per error.
func Quote(s string) string {
	if utf8.RuneCountInString(s) <= MaxQuoted {
		return strconv.Quote(s)
	}
	cut, n := 0, 0
	for i := range s {
		if n == MaxQuoted {
			cut = i
			break
		}
		n++
	}
	return strconv.Quote(s[:cut]) + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// maxPath is the longest file name Path prints as is.
const maxPath = 256

// Path renders a file name for a message: as is when it is short and
// printable (the common case: "policy.yaml:3:7: ..."), through Quote
// otherwise. A name comes from the command line or a config file and is
// input too: a 300 KB "path" in a config once came back in full in the
// "file name too long" error.
func Path(p string) string {
	if len(p) <= maxPath && strings.IndexFunc(p, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return p
	}
	return Quote(p)
}

// MaxBrief is the longest message Brief keeps, in bytes.
const MaxBrief = 512

// Brief cuts a message from another library (a TOML, protobuf text or
// JSON parser) to MaxBrief bytes with the full length appended. Such
// messages may quote the input (go-toml prints the offending line) and
// cannot go through Quote.
func Brief(msg string) string {
	if len(msg) <= MaxBrief {
		return msg
	}
	cut := MaxBrief
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…(" + strconv.Itoa(len(msg)) + " bytes)"
}
