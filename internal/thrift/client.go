package thrift

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"
)

// Client is one connection to a Thrift server. It is not safe for
// concurrent use; open one per task (they are cheap and short-lived).
type Client struct {
	conn net.Conn
	r    *bufio.Reader
	seq  int32
}

// Dial connects to addr (host:port) over TCP.
func Dial(ctx context.Context, addr string) (*Client, error) { return DialWith(ctx, addr, nil) }

// DialWith connects with dial (nil: TCP).
func DialWith(ctx context.Context, addr string, dial func(context.Context, string) (net.Conn, error)) (*Client, error) {
	if dial == nil {
		var d net.Dialer
		dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	conn, err := dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, r: bufio.NewReader(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Call invokes service:method with args and returns the reply's fields. A
// TApplicationException reply (unknown method, internal error) and a
// declared exception (a struct field with id ≥ 1) become errors.
func (c *Client) Call(ctx context.Context, service, method string, args ...Field) (*Message, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	if err := c.conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	c.seq++
	name := method
	if service != "" {
		name = service + ":" + method
	}
	if err := WriteMessage(c.conn, &Message{Name: name, Type: Call, SeqID: c.seq, Fields: args}); err != nil {
		return nil, fmt.Errorf("%s: send: %w", method, err)
	}
	m, err := ReadMessage(c.r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	if m.SeqID != c.seq {
		return nil, fmt.Errorf("%s: reply to call %d, expected %d", method, m.SeqID, c.seq)
	}
	switch m.Type {
	case Reply:
	case Exception:
		msg, _ := m.Field(1)
		return nil, fmt.Errorf("%s: server exception: %s", method, msg.Str)
	default:
		return nil, fmt.Errorf("%s: unexpected message type %d", method, m.Type)
	}
	for _, f := range m.Fields {
		if f.ID >= 1 {
			return nil, fmt.Errorf("%s: the server raised declared exception %d", method, f.ID)
		}
	}
	return m, nil
}

// CallInt is Call for a method returning i32 or i64: the result (field 0).
func (c *Client) CallInt(ctx context.Context, service, method string, args ...Field) (int64, error) {
	m, err := c.Call(ctx, service, method, args...)
	if err != nil {
		return 0, err
	}
	f, ok := m.Field(0)
	if !ok || (f.Type != TypeI32 && f.Type != TypeI64) {
		return 0, fmt.Errorf("%s: reply carries no integer result", method)
	}
	return f.Int, nil
}
