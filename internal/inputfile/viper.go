package inputfile

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/viper"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// ReadViperConfig loads a config file into v through the bounded reader
// (viper's ReadInConfig reads any path in full: /dev/zero until the
// runtime runs out of memory, a FIFO until a writer comes). The extension
// says the format (.yaml, .json, .toml; none means YAML).
func ReadViperConfig(v *viper.Viper, path string) error {
	data, err := Read(path, Config)
	if err != nil {
		return err
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
	return nil
}
