package inputfile

import (
	"errors"
	"fmt"
)

// MaxNesting is the deepest nesting of brackets CheckNesting accepts.
// p4qos's inputs nest a few levels; YAML and JSON parsers stop at 10,000
// themselves.
const MaxNesting = 1000

// ErrTooDeep is wrapped by CheckNesting's error.
var ErrTooDeep = errors.New("input nested too deeply")

// CheckNesting refuses data whose brackets ('[' and '{' outside quoted
// strings) nest deeper than MaxNesting, or a line whose key has more than
// MaxNesting dotted parts (a TOML key a.b.c nests tables as [a] [a.b] do).
// Parsers without a depth limit of their own recurse once per level:
// go-toml v2 (viper's TOML) given a 1 MB config of nested arrays or of
// one dotted key, 500,000 levels, grew its stack past 512 MB and died with
// "fatal error: out of memory" under a 2 GB address-space limit. The scan
// is a guard, not a parser: brackets in comments and dots in YAML values
// count too, which can only make it stricter.
func CheckNesting(name string, data []byte) error {
	depth, dots, quote := 0, 0, byte(0)
	inKey := true // on this line, no '=' yet: dots separate key parts
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\n':
			quote, dots, inKey = 0, 0, true // a newline ends unterminated quotes (YAML plain scalars)
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++ // skip the escaped byte
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '=':
			inKey = false
		case c == '.' && inKey:
			if dots++; dots > MaxNesting {
				return fmt.Errorf("%s has a key of more than %d dotted parts: %w", name, MaxNesting, ErrTooDeep)
			}
		case c == '[' || c == '{':
			if depth++; depth > MaxNesting {
				return fmt.Errorf("%s nests lists or tables more than %d deep: %w", name, MaxNesting, ErrTooDeep)
			}
		case (c == ']' || c == '}') && depth > 0:
			depth--
		}
	}
	return nil
}
