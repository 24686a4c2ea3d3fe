package yamlerr

import (
	"strconv"
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
