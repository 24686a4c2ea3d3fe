package thrift

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// TestWireFormat pins the bytes of one call against the binary protocol's
// definition, written out by hand: a strict header, the name, the seqid,
// then (type, id, value) fields and a stop byte.
func TestWireFormat(t *testing.T) {
	var b bytes.Buffer
	err := WriteMessage(&b, &Message{Name: "ss:m", Type: Call, SeqID: 7,
		Fields: []Field{I32(1, 2), I64(3, -1), String(4, "x")}})
	if err != nil {
		t.Fatal(err)
	}
	want := "80010001" + "00000004" + hex.EncodeToString([]byte("ss:m")) + "00000007" +
		"08" + "0001" + "00000002" +
		"0a" + "0003" + "ffffffffffffffff" +
		"0b" + "0004" + "00000001" + "78" +
		"00"
	if got := hex.EncodeToString(b.Bytes()); got != want {
		t.Fatalf("encoding\n got %s\nwant %s", got, want)
	}
	m, err := ReadMessage(bufio.NewReader(&b))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "ss:m" || m.SeqID != 7 || len(m.Fields) != 3 || m.Fields[1].Int != -1 || m.Fields[2].Str != "x" {
		t.Fatalf("decoded %+v", m)
	}
}

func TestReadSkipsNestedValues(t *testing.T) {
	// A reply whose field 1 is a struct {1: list<i32> [5, 6]} and field 2 an i32.
	raw, _ := hex.DecodeString("80010002" + "00000001" + "6d" + "00000001" +
		"0c" + "0001" + "0f" + "0001" + "08" + "00000002" + "00000005" + "00000006" + "00" +
		"08" + "0002" + "0000002a" + "00")
	m, err := ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := m.Field(2); !ok || f.Int != 42 {
		t.Fatalf("field 2 = %+v, %v", f, ok)
	}
}

func TestReadRejectsBadInput(t *testing.T) {
	for name, in := range map[string]string{
		"not strict":   "00000004",
		"huge string":  "80010001" + "7fffffff",
		"unknown type": "80010001" + "00000000" + "00000001" + "63" + "0001",
		"truncated":    "80010001" + "00000004" + "6162",
	} {
		raw, _ := hex.DecodeString(in)
		if _, err := ReadMessage(bufio.NewReader(bytes.NewReader(raw))); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestClientServer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &Server{Service: "simple_switch", Handler: func(method string, m *Message) (Field, error) {
		switch method {
		case "add":
			a, _ := m.Field(1)
			b, _ := m.Field(2)
			return I64(0, a.Int+b.Int), nil
		case "fail":
			return Field{}, errors.New("no such queue")
		}
		return Field{}, ErrUnknownMethod
	}}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
	defer ccancel()
	c, err := Dial(cctx, lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.CallInt(cctx, "simple_switch", "add", I32(1, 40), I64(2, 2)); err != nil || v != 42 {
		t.Fatalf("add = %d, %v", v, err)
	}
	if _, err := c.CallInt(cctx, "simple_switch", "fail"); err == nil || !strings.Contains(err.Error(), "no such queue") {
		t.Fatalf("fail: %v", err)
	}
	if _, err := c.CallInt(cctx, "simple_switch", "nope"); err == nil || !strings.Contains(err.Error(), "unknown method") {
		t.Fatalf("nope: %v", err)
	}
	if _, err := c.CallInt(cctx, "other", "add"); err == nil {
		t.Fatal("a call to another service succeeded")
	}
	// The connection still works after errors.
	if v, err := c.CallInt(cctx, "simple_switch", "add", I32(1, 1), I64(2, 1)); err != nil || v != 2 {
		t.Fatalf("add after errors = %d, %v", v, err)
	}
}

func FuzzReadMessage(f *testing.F) {
	var b bytes.Buffer
	_ = WriteMessage(&b, &Message{Name: "s:m", Type: Call, SeqID: 1, Fields: []Field{I32(1, 2), String(2, "x")}})
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ReadMessage(bufio.NewReader(bytes.NewReader(in)))
		if err != nil {
			return
		}
		var out bytes.Buffer
		keep := m.Fields[:0]
		for _, fl := range m.Fields {
			if fl.Type == TypeI32 || fl.Type == TypeI64 || fl.Type == TypeString {
				keep = append(keep, fl)
			}
		}
		m.Fields = keep
		if err := WriteMessage(&out, m); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadMessage(bufio.NewReader(&out)); err != nil {
			t.Fatalf("re-read: %v", err)
		}
	})
}
