package controller

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
	"gopkg.in/yaml.v3"

	"github.com/p4qos/p4qos/controller/cluster"
	"github.com/p4qos/p4qos/internal/inputfile"
)

// IntentClient is `p4qos intent`: the cluster's shared intent in etcd.
type IntentClient struct {
	cfg Config
	cli *clientv3.Client
}

// unset marks policy and topology as not given (`intent get` needs neither).
const unset = "\x00unset"

// BindIntentFlags adds the daemon's flags (for the config, the P4Info that
// validates a put, and the cluster settings), with -p/--policy and
// -t/--topology, and --expect.
func BindIntentFlags(fs *pflag.FlagSet) {
	all := pflag.NewFlagSet("intent", pflag.ContinueOnError)
	BindFlags(all)
	all.VisitAll(func(f *pflag.Flag) {
		switch f.Name {
		case "policy":
			f.Shorthand = "p"
		case "topology":
			f.Shorthand = "t"
		}
		fs.AddFlag(f)
	})
	fs.Int64("expect", -1, "put/rollback only if the store is at this revision (default: the revision read just before)")
}

// OpenIntent loads the configuration (policy and topology optional) and
// connects to the cluster it names.
func OpenIntent(src Sources) (*IntentClient, error) {
	def := Default()
	// The P4Info a put is compiled against defaults to the pipeline the
	// binary carries (internal/assets), as for `p4qos compile`.
	def.Policy, def.Topology, def.P4Info = unset, unset, "p4src/build/qos.p4info.txtpb"
	cfg, err := load(src, def)
	if err != nil {
		return nil, err
	}
	if cfg.Cluster == "" {
		return nil, &ConfigError{Problems: []string{"cluster: not set: give it in the config file or as --cluster etcd://host:port"}}
	}
	cli, err := ConnectCluster(&cfg)
	if err != nil {
		return nil, &ConfigError{Problems: []string{"cluster: " + err.Error()}}
	}
	return &IntentClient{cfg: cfg, cli: cli}, nil
}

// Close closes the connection.
func (ic *IntentClient) Close() error { return ic.cli.Close() }

// IntentCommand is `p4qos intent ARGS` with the command's flags in src:
// configuration problems are *InputError (exit 2).
func IntentCommand(ctx context.Context, src Sources, w io.Writer, args []string) error {
	ic, err := OpenIntent(src)
	if err != nil {
		return inputErr(err)
	}
	defer ic.Close()
	expect := int64(-1)
	if f := lookupFlag(src.Flags, "expect"); f != nil && f.Changed {
		if expect, err = strconv.ParseInt(f.Value.String(), 10, 64); err != nil {
			return inputErr(fmt.Errorf("--expect: %w", err))
		}
	}
	return ic.Command(ctx, w, args, expect)
}

// Command runs `intent put|get|history|rollback REV` and prints its result.
func (ic *IntentClient) Command(ctx context.Context, w io.Writer, args []string, expect int64) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch {
	case len(args) == 1 && args[0] == "put":
		return ic.put(ctx, w, expect)
	case len(args) == 1 && args[0] == "get":
		in, rev, err := GetIntent(ctx, ic.cli)
		if err != nil || rev == 0 {
			return errors.Join(err, errors.New("the intent store is empty (p4qos intent put, or start p4qos run --cluster with policy and topology files to seed it)"))
		}
		out, err := yaml.Marshal(map[string]any{"revision": in.Revision, "time": in.Time.Format(time.RFC3339), "note": in.Note,
			"policy": string(in.Policy), "topology": string(in.Topology), "reservations": string(in.Reservations)})
		if err == nil {
			_, err = w.Write(out)
		}
		return err
	case len(args) == 1 && args[0] == "history":
		hist, err := cluster.NewStore(ic.cli).History(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REVISION\tTIME\tPOLICY SHA-256\tTOPOLOGY SHA-256\tNOTE")
		for _, in := range hist {
			p, t := sha256.Sum256(in.Policy), sha256.Sum256(in.Topology)
			fmt.Fprintf(tw, "%d\t%s\t%x\t%x\t%s\n", in.Revision, in.Time.Format(time.RFC3339), p[:6], t[:6], in.Note)
		}
		return tw.Flush()
	case len(args) == 2 && args[0] == "rollback":
		rev, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil || rev <= 0 {
			return inputErr(fmt.Errorf("rollback: revision must be a positive integer, got %q", args[1]))
		}
		n, err := RollbackIntent(ctx, ic.cli, ic.cfg, rev)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "intent revision %d stored: the content of revision %d\n", n, rev)
		return nil
	}
	return inputErr(fmt.Errorf("intent: expected put, get, history or rollback REV, got %q", args))
}

func (ic *IntentClient) put(ctx context.Context, w io.Writer, expect int64) error {
	if ic.cfg.Policy == unset || ic.cfg.Topology == unset {
		return inputErr(errors.New("intent put: give the policy and the topology (-p policy.yaml -t topology.yaml)"))
	}
	policy, err := inputfile.Read(ic.cfg.Policy, inputfile.Policy)
	if err != nil {
		return inputErr(err)
	}
	topology, err := inputfile.Read(ic.cfg.Topology, inputfile.Topology)
	if err != nil {
		return inputErr(err)
	}
	if expect < 0 {
		if _, expect, err = GetIntent(ctx, ic.cli); err != nil {
			return err
		}
	}
	rev, err := PutIntent(ctx, ic.cli, ic.cfg, policy, topology, expect)
	if errors.Is(err, cluster.ErrConflict) {
		return fmt.Errorf("intent put (expected revision %d): %w", expect, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "intent revision %d stored (compiled against %s); every instance applies it\n", rev, ic.cfg.P4Info)
	return nil
}

func lookupFlag(fs *pflag.FlagSet, name string) *pflag.Flag {
	if fs == nil {
		return nil
	}
	return fs.Lookup(name)
}
