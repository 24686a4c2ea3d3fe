// Package thrift speaks the small part of Apache Thrift that BMv2's runtime
// interface needs: the strict binary protocol over a plain (buffered, not
// framed) TCP stream, with multiplexed service names ("simple_switch:…"),
// and calls whose arguments and results are i32/i64/string fields.
//
// It exists so that the controller can set BMv2's queue rates and depths
// (simple_switch's set_egress_priority_queue_rate/_depth, which P4Runtime
// cannot express) without Python or generated code, and so that the embedded
// switch can serve the same calls, which lets CI test both ends.
//
// Wire format (Apache Thrift "TBinaryProtocol", strict mode): a message is
// i32 (0x80010000 | type), string name, i32 seqid, then a struct; a struct is
// a sequence of (i8 type, i16 id, value) fields ended by an i8 0. Integers
// are big-endian; a string is an i32 length and its bytes.
package thrift

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Message types.
const (
	Call      byte = 1
	Reply     byte = 2
	Exception byte = 3
	Oneway    byte = 4
)

// Field types.
const (
	typeStop   byte = 0
	typeBool   byte = 2
	typeByte   byte = 3
	typeDouble byte = 4
	typeI16    byte = 6
	TypeI32    byte = 8
	TypeI64    byte = 10
	TypeString byte = 11
	typeStruct byte = 12
	typeMap    byte = 13
	typeSet    byte = 14
	typeList   byte = 15
)

const versionMask = 0xffff0000
const version1 = 0x80010000

// maxString bounds strings read from the peer: method names and messages
// are short, and a corrupt length must not allocate gigabytes.
const maxString = 1 << 16

// maxDepth bounds nested structs and containers skipped in a reply.
const maxDepth = 16

// Field is one field of an argument or result struct. Only the scalar types
// this package encodes carry a value; other types are skipped on read.
type Field struct {
	ID   int16
	Type byte
	Int  int64  // TypeI32, TypeI64
	Str  string // TypeString
}

// I32 is an i32 field.
func I32(id int16, v int32) Field { return Field{ID: id, Type: TypeI32, Int: int64(v)} }

// I64 is an i64 field.
func I64(id int16, v int64) Field { return Field{ID: id, Type: TypeI64, Int: v} }

// String is a string field.
func String(id int16, s string) Field { return Field{ID: id, Type: TypeString, Str: s} }

// Message is one Thrift message.
type Message struct {
	Name   string
	Type   byte
	SeqID  int32
	Fields []Field
}

// Field returns the field with the given id.
func (m *Message) Field(id int16) (Field, bool) {
	for _, f := range m.Fields {
		if f.ID == id {
			return f, true
		}
	}
	return Field{}, false
}

// WriteMessage encodes m onto w.
func WriteMessage(w io.Writer, m *Message) error {
	b := binary.BigEndian.AppendUint32(nil, version1|uint32(m.Type))
	b = appendString(b, m.Name)
	b = binary.BigEndian.AppendUint32(b, uint32(m.SeqID))
	for _, f := range m.Fields {
		b = append(b, f.Type)
		b = binary.BigEndian.AppendUint16(b, uint16(f.ID))
		switch f.Type {
		case TypeI32:
			b = binary.BigEndian.AppendUint32(b, uint32(int32(f.Int)))
		case TypeI64:
			b = binary.BigEndian.AppendUint64(b, uint64(f.Int))
		case TypeString:
			b = appendString(b, f.Str)
		default:
			return fmt.Errorf("thrift: cannot encode field %d of type %d", f.ID, f.Type)
		}
	}
	b = append(b, typeStop)
	_, err := w.Write(b)
	return err
}

// WriteException encodes a TApplicationException reply (message, type).
func WriteException(w io.Writer, name string, seq int32, msg string, typ int32) error {
	return WriteMessage(w, &Message{Name: name, Type: Exception, SeqID: seq,
		Fields: []Field{String(1, msg), I32(2, typ)}})
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// ReadMessage decodes one message from r. Fields of types other than i32,
// i64 and string are skipped (their values are not needed here).
func ReadMessage(r *bufio.Reader) (*Message, error) {
	d := decoder{r: r}
	hdr := d.u32()
	if d.err == nil && hdr&versionMask != version1 {
		return nil, fmt.Errorf("thrift: not a strict binary-protocol message (header %#08x)", hdr)
	}
	m := &Message{Type: byte(hdr & 0xff)}
	m.Name = d.str()
	m.SeqID = int32(d.u32())
	for d.err == nil {
		t := d.u8()
		if t == typeStop || d.err != nil {
			break
		}
		id := int16(d.u16())
		switch t {
		case TypeI32:
			m.Fields = append(m.Fields, Field{ID: id, Type: t, Int: int64(int32(d.u32()))})
		case TypeI64:
			m.Fields = append(m.Fields, Field{ID: id, Type: t, Int: int64(d.u64())})
		case TypeString:
			m.Fields = append(m.Fields, Field{ID: id, Type: t, Str: d.str()})
		default:
			m.Fields = append(m.Fields, Field{ID: id, Type: t})
			d.skip(t, 0)
		}
	}
	if d.err != nil {
		if errors.Is(d.err, io.EOF) && m.Name == "" {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("thrift: read message: %w", d.err)
	}
	return m, nil
}

type decoder struct {
	r   *bufio.Reader
	err error
	buf [8]byte
}

func (d *decoder) read(n int) []byte {
	if d.err != nil {
		return d.buf[:n]
	}
	_, d.err = io.ReadFull(d.r, d.buf[:n])
	return d.buf[:n]
}

func (d *decoder) u8() byte    { return d.read(1)[0] }
func (d *decoder) u16() uint16 { return binary.BigEndian.Uint16(d.read(2)) }
func (d *decoder) u32() uint32 { return binary.BigEndian.Uint32(d.read(4)) }
func (d *decoder) u64() uint64 { return binary.BigEndian.Uint64(d.read(8)) }

func (d *decoder) str() string {
	n := d.u32()
	if d.err != nil {
		return ""
	}
	if n > maxString {
		d.err = fmt.Errorf("string of %d bytes (limit %d)", n, maxString)
		return ""
	}
	b := make([]byte, n)
	_, d.err = io.ReadFull(d.r, b)
	return string(b)
}

func (d *decoder) discard(n uint64) {
	if d.err == nil {
		_, d.err = d.r.Discard(int(min(n, math.MaxInt32)))
	}
}

// skip reads past one value of type t.
func (d *decoder) skip(t byte, depth int) {
	if depth > maxDepth {
		d.err = errors.New("values nested too deep")
		return
	}
	switch t {
	case typeBool, typeByte:
		d.discard(1)
	case typeI16:
		d.discard(2)
	case TypeI32:
		d.discard(4)
	case typeDouble, TypeI64:
		d.discard(8)
	case TypeString:
		d.discard(uint64(d.u32()))
	case typeStruct:
		for d.err == nil {
			ft := d.u8()
			if ft == typeStop {
				return
			}
			d.discard(2)
			d.skip(ft, depth+1)
		}
	case typeMap:
		kt, vt, n := d.u8(), d.u8(), d.u32()
		for i := uint32(0); i < n && d.err == nil; i++ {
			d.skip(kt, depth+1)
			d.skip(vt, depth+1)
		}
	case typeSet, typeList:
		et, n := d.u8(), d.u32()
		for i := uint32(0); i < n && d.err == nil; i++ {
			d.skip(et, depth+1)
		}
	default:
		d.err = fmt.Errorf("unknown field type %d", t)
	}
}
