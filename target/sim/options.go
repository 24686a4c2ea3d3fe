package sim

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

// Option configures a Switch.
type Option func(*config)

type config struct {
	deviceID     uint64
	logger       *slog.Logger
	sizeOverride map[string]int64
	promoteNext  bool
	portRate     map[uint32]float64
	serverOpts   []grpc.ServerOption
	// TLS: tlsConfig wins over the files; neither means plaintext.
	tlsConfig                     *tls.Config
	tlsCert, tlsKey, tlsClientCAs string
}

func defaultConfig() config {
	return config{
		deviceID:     1,
		logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		sizeOverride: map[string]int64{},
		portRate:     map[uint32]float64{},
	}
}

// WithDeviceID sets the P4Runtime device ID the switch answers to (default
// 1). §5.1 wants non-zero device IDs, but BMv2 setups (the P4 tutorials)
// commonly use 0, so 0 is accepted to let a topology address both alike.
func WithDeviceID(id uint64) Option {
	return func(c *config) { c.deviceID = id }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithTableSizeOverride makes the table called table (full P4Info name,
// alias, or last dotted component such as "classifier") hold at most size
// entries, whatever the P4Info says, in every pipeline pushed later. Tests
// use it to reach RESOURCE_EXHAUSTED without thousands of writes.
func WithTableSizeOverride(table string, size int) Option {
	return func(c *config) {
		if size >= 0 {
			c.sizeOverride[table] = int64(size)
		}
	}
}

// WithPromoteOnDisconnect makes the live backup with the highest election ID
// the primary as soon as the primary's stream breaks, as PI/BMv2 do. The
// default follows P4Runtime §5 strictly: the role stays without a primary
// until a client sends a MasterArbitrationUpdate with an election ID at least
// as high as the highest one seen.
func WithPromoteOnDisconnect() Option {
	return func(c *config) { c.promoteNext = true }
}

// WithPortRate limits egress port to bps bits per second in the traffic
// model, as SetPortRate does.
func WithPortRate(port uint32, bps float64) Option {
	return func(c *config) {
		if bps > 0 {
			c.portRate[port] = bps
		}
	}
}

// WithServerOptions adds gRPC server options (interceptors, limits) after
// the sim's own, so they take precedence.
func WithServerOptions(opts ...grpc.ServerOption) Option {
	return func(c *config) { c.serverOpts = append(c.serverOpts, opts...) }
}

// WithTLS serves P4Runtime over TLS with the PEM certificate chain and key
// in certFile and keyFile (read when serving starts; Start and Serve report
// unreadable files). With clientCAFile, clients must present a certificate
// signed by one of its PEM CAs (mutual TLS); empty means any client may
// connect. Without TLS options the switch serves plaintext, as BMv2 does.
func WithTLS(certFile, keyFile, clientCAFile string) Option {
	return func(c *config) { c.tlsCert, c.tlsKey, c.tlsClientCAs = certFile, keyFile, clientCAFile }
}

// WithTLSConfig serves P4Runtime over TLS with cfg, which must hold the
// server certificate (Certificates or GetCertificate) and, for mutual TLS,
// ClientCAs and ClientAuth. It takes precedence over WithTLS.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *config) { c.tlsConfig = cfg }
}

// serverTLS is the TLS config to serve with, or nil for plaintext.
func (c *config) serverTLS() (*tls.Config, error) {
	if c.tlsConfig != nil {
		return c.tlsConfig.Clone(), nil
	}
	if c.tlsCert == "" && c.tlsKey == "" && c.tlsClientCAs == "" {
		return nil, nil
	}
	if c.tlsCert == "" || c.tlsKey == "" {
		return nil, fmt.Errorf("sim: TLS needs both a certificate and a key file")
	}
	cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("sim: TLS certificate %s / key %s: %w", c.tlsCert, c.tlsKey, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.tlsClientCAs != "" {
		pem, err := os.ReadFile(c.tlsClientCAs)
		if err != nil {
			return nil, fmt.Errorf("sim: TLS client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("sim: TLS client CA %s: no PEM certificate found", c.tlsClientCAs)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// ParseTableSize reads a --table-size value, NAME=N: a table of the qos
// pipeline (its name in the contract, such as classifier, or a full P4Info
// name ending in it) and a size N >= 0.
func ParseTableSize(kv string) (Option, error) {
	name, n, ok := strings.Cut(kv, "=")
	size, err := strconv.Atoi(n)
	if !ok || name == "" || err != nil || size < 0 {
		return nil, errors.New("want name=N with N >= 0")
	}
	if !slices.Contains(contract.Tables, lastComponent(name)) {
		return nil, fmt.Errorf("no table %s in the qos pipeline%s (tables: %s)", yamlerr.Quote(name),
			yamlerr.Suggest(lastComponent(name), contract.Tables), strings.Join(contract.Tables, ", "))
	}
	return WithTableSizeOverride(name, size), nil
}
