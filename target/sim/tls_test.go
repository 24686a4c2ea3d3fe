package sim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/p4qos/p4qos/controlplane"
)

// pki is a throw-away CA with certificates signed by it, as PEM files.
type pki struct {
	t        *testing.T
	dir      string
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	CA       string // the CA certificate file
	serial   int64
	notAfter time.Time
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	p := &pki{t: t, dir: t.TempDir(), notAfter: time.Now().Add(time.Hour)}
	p.key = p.newKey()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: p.notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.key.PublicKey, p.key)
	if err != nil {
		t.Fatalf("CA certificate: %v", err)
	}
	if p.cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatalf("parse CA certificate: %v", err)
	}
	p.CA = p.writePEM(name+"-ca.pem", "CERTIFICATE", der)
	return p
}

func (p *pki) newKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatalf("ECDSA key: %v", err)
	}
	return k
}

func (p *pki) writePEM(name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		p.t.Fatalf("write %s: %v", path, err)
	}
	return path
}

// issue signs a certificate for 127.0.0.1 with the given usage and returns
// its certificate and key files.
func (p *pki) issue(name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	p.t.Helper()
	p.serial++
	key := p.newKey()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial + 1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: p.notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		p.t.Fatalf("certificate %s: %v", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		p.t.Fatalf("marshal key %s: %v", name, err)
	}
	return p.writePEM(name+".pem", "CERTIFICATE", der), p.writePEM(name+"-key.pem", "PRIVATE KEY", keyDER)
}

func tlsCreds(t *testing.T, ca, cert, key string) credentials.TransportCredentials {
	t.Helper()
	c, err := controlplane.TLSFiles(ca, cert, key)
	if err != nil {
		t.Fatalf("TLSFiles: %v", err)
	}
	return c
}

// controllerWrites dials addr with the controller's session and creds. If
// the session becomes primary it pushes the generic pipeline and writes
// one entry, and returns nil; otherwise it returns the session's error.
func controllerWrites(t *testing.T, addr string, creds credentials.TransportCredentials) error {
	t.Helper()
	sess, err := controlplane.Dial(controlplane.SwitchConfig{Name: "sim", Address: addr, DeviceID: 1},
		controlplane.WithTransportCredentials(creds))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer sess.Close()
	// The deadline only bounds a broken test: a refused handshake
	// reports its error on the first attempt.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sess.WaitFor(ctx, func(st controlplane.State) bool { return st.Primary || st.Err != nil }); err != nil {
		t.Fatalf("session: %v", err)
	}
	if st := sess.State(); !st.Primary {
		return st.Err
	}
	_, err = sess.Client().SetForwardingPipelineConfig(ctx, &p4v1.SetForwardingPipelineConfigRequest{
		DeviceId: 1, ElectionId: &p4v1.Uint128{Low: 1},
		Action: p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT,
		Config: &p4v1.ForwardingPipelineConfig{P4Info: loadP4Info(t, "testdata/generic.p4info.txtpb")},
	})
	if err != nil {
		t.Fatalf("primary over TLS: SetForwardingPipelineConfig: %v", err)
	}
	if err := sess.Write(ctx, []*p4v1.Update{insert(exactEntry(1))}); err != nil {
		t.Fatalf("primary over TLS: Write: %v", err)
	}
	got, err := sess.Read(ctx, exactEntry(1))
	if err != nil || len(got) != 1 {
		t.Fatalf("primary over TLS: Read back %v, %v", got, err)
	}
	return nil
}

// TestSim_ServesTLS: the sim had no TLS option, so the controller's TLS
// path was never tested end to end. Each case starts a sim with the server
// side and runs the controller's client (controlplane.TLSFiles + Dial)
// against it.
func TestSim_ServesTLS(t *testing.T) {
	ca, other := newPKI(t, "ca"), newPKI(t, "other")
	serverCert, serverKey := ca.issue("server", x509.ExtKeyUsageServerAuth)
	clientCert, clientKey := ca.issue("client", x509.ExtKeyUsageClientAuth)
	strangerCert, strangerKey := other.issue("stranger", x509.ExtKeyUsageClientAuth)
	pair, err := tls.LoadX509KeyPair(serverCert, serverKey)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		server Option
		// The client's TLSFiles; no CA means a plaintext client.
		ca, cert, key string
		ok            bool
	}{
		{"TLS, client trusts the CA", WithTLS(serverCert, serverKey, ""), ca.CA, "", "", true},
		{"TLS, client trusts another CA", WithTLS(serverCert, serverKey, ""), other.CA, "", "", false},
		{"TLS, plaintext client", WithTLS(serverCert, serverKey, ""), "", "", "", false},
		{"mutual TLS, client certificate", WithTLS(serverCert, serverKey, ca.CA), ca.CA, clientCert, clientKey, true},
		{"mutual TLS, no client certificate", WithTLS(serverCert, serverKey, ca.CA), ca.CA, "", "", false},
		{"mutual TLS, client certificate of another CA", WithTLS(serverCert, serverKey, ca.CA), ca.CA, strangerCert, strangerKey, false},
		{"tls.Config", WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS13}), ca.CA, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sw, addr, err := Start(ctx, "127.0.0.1:0", tc.server)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			defer sw.Close()
			creds := insecure.NewCredentials()
			if tc.ca != "" {
				creds = tlsCreds(t, tc.ca, tc.cert, tc.key)
			}
			err = controllerWrites(t, addr, creds)
			if tc.ok && err != nil {
				t.Errorf("controller over TLS: %v, want primary and a Write", err)
			}
			if err != nil {
				t.Logf("refused: %v", err)
			}
			if !tc.ok && err == nil {
				t.Errorf("controller became primary, want the connection refused")
			}
		})
	}
}

func TestSim_TLSFilesAreChecked(t *testing.T) {
	ca := newPKI(t, "ca")
	cert, key := ca.issue("server", x509.ExtKeyUsageServerAuth)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, tc := range []struct {
		name string
		opt  Option
	}{
		{"missing certificate", WithTLS(missing, key, "")},
		{"key without certificate", WithTLS("", key, "")},
		{"certificate as key", WithTLS(cert, cert, "")},
		{"missing client CA", WithTLS(cert, key, missing)},
		{"client CA without PEM", WithTLS(cert, key, key)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if sw, _, err := Start(context.Background(), "127.0.0.1:0", tc.opt); err == nil {
				sw.Close()
				t.Errorf("Start succeeded, want an error")
			}
		})
	}
}
