package inputfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// ReadViperConfig loads a config file into v through the bounded reader
// (viper's ReadInConfig reads any path in full: /dev/zero until the
// runtime runs out of memory, a FIFO until a writer comes). The extension
// says the format (.yaml, .json, .toml; none means YAML). Keys other than
// known are errors, each positioned (file:line:col in YAML and JSON) with
// the closest known key offered.
//
// Path "-" reads stdin (YAML or JSON), named <stdin> in messages.
func ReadViperConfig(v *viper.Viper, path string, stdin io.Reader, known []string) error {
	data, err := ReadArg(path, stdin, Config)
	if err != nil {
		return err
	}
	if path == Stdin {
		path = "<stdin>"
	}
	if err := CheckNesting(yamlerr.Path(path), data); err != nil {
		return err // go-toml has no depth limit of its own
	}
	format := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	if format == "" {
		format = "yaml"
	}
	v.SetConfigType(format)
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		// Parser messages may quote the input (go-toml prints the line).
		return fmt.Errorf("%s: %s", yamlerr.Path(path), yamlerr.Brief(err.Error()))
	}
	return unknownKeys(path, format, data, known)
}

// unknownKeys lists the config's top-level keys that are not known.
func unknownKeys(path, format string, data []byte, known []string) error {
	var problems []string
	bad := func(pos, key string) {
		if len(problems) < yamlerr.MaxErrors {
			problems = append(problems, fmt.Sprintf("%s: unknown key %s%s (expected one of: %s)", pos, yamlerr.Quote(key), yamlerr.Suggest(key, known), strings.Join(known, ", ")))
		}
	}
	var doc yaml.Node
	if format != "toml" && yaml.Unmarshal(data, &doc) == nil && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		m := doc.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if k := m.Content[i]; !slices.Contains(known, k.Value) {
				bad(fmt.Sprintf("%s:%d:%d", yamlerr.Path(path), k.Line, k.Column), k.Value)
			}
		}
	} else {
		// Only the file's keys: v also holds the bound flags'.
		file := viper.New()
		file.SetConfigType(format)
		_ = file.ReadConfig(bytes.NewReader(data))
		for _, k := range file.AllKeys() {
			if top, _, _ := strings.Cut(k, "."); !slices.Contains(known, top) {
				bad(yamlerr.Path(path), top)
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "\n"))
}
