package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Prefix starts every key p4qos keeps in etcd.
const Prefix = "/p4qos/"

// Options say how to reach etcd.
type Options struct {
	// URL is the `cluster` setting: etcd://host:port[,host:port...], or
	// etcds:// for TLS.
	URL string
	// TLSCA, TLSCert, TLSKey are PEM files (like the switches' tls-*): a
	// CA enables TLS, cert + key add a client certificate.
	TLSCA, TLSCert, TLSKey string
	// DialTimeout bounds the first connection (default 5s).
	DialTimeout time.Duration
}

// ParseURL splits a `cluster` setting into etcd endpoints and says whether
// it asks for TLS.
func ParseURL(s string) (endpoints []string, secure bool, err error) {
	scheme, rest, ok := strings.Cut(s, "://")
	switch {
	case !ok:
		return nil, false, fmt.Errorf("expected etcd://host:port[,host:port...], got %q", s)
	case scheme == "etcd":
	case scheme == "etcds":
		secure = true
	default:
		return nil, false, fmt.Errorf("scheme %q: expected etcd:// or etcds://", scheme)
	}
	for _, hp := range strings.Split(rest, ",") {
		host, port, err := net.SplitHostPort(strings.TrimSpace(hp))
		if err != nil || host == "" || port == "" {
			return nil, false, fmt.Errorf("endpoint %q: expected host:port", hp)
		}
		proto := "http://"
		if secure {
			proto = "https://"
		}
		endpoints = append(endpoints, proto+net.JoinHostPort(host, port))
	}
	return endpoints, secure, nil
}

// Connect opens an etcd client. It does not wait for etcd: calls made while
// it is unreachable fail or wait within their contexts.
func Connect(o Options) (*clientv3.Client, error) {
	eps, secure, err := ParseURL(o.URL)
	if err != nil {
		return nil, err
	}
	cfg := clientv3.Config{Endpoints: eps, DialTimeout: o.DialTimeout, Logger: zap.NewNop(),
		DialKeepAliveTime: 2 * time.Second, DialKeepAliveTimeout: 2 * time.Second}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if secure || o.TLSCA != "" || o.TLSCert != "" {
		tc, err := tlsConfig(o)
		if err != nil {
			return nil, err
		}
		cfg.TLS = tc
		for i, ep := range cfg.Endpoints {
			cfg.Endpoints[i] = "https://" + strings.TrimPrefix(strings.TrimPrefix(ep, "http://"), "https://")
		}
	}
	return clientv3.New(cfg)
}

func tlsConfig(o Options) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSCA != "" {
		pem, err := os.ReadFile(o.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("cluster-tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cluster-tls-ca %s: no PEM certificate found", o.TLSCA)
		}
		tc.RootCAs = pool
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, errors.New("cluster-tls-cert and cluster-tls-key go together")
	}
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("cluster TLS client certificate %s / key %s: %w", o.TLSCert, o.TLSKey, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// ctxTimeout is a short context for one etcd call.
func ctxTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
